#pragma once

// `rebound runner`: one long-lived process that runs the daemon's durable jobs (docs/shim.md,
// "The job runner"; why: docs/benchmarks.md, "Durable jobs"). It does for every job what
// `rebound shim` does for one service (own process group, rotated log, NAME.child, and the
// exit: told to a listening daemon that offered `forget` and kept in memory until it says
// `forget`, if its line went into the socket whole; else written to NAME.exit durably first),
// without an exec of a shim per job, and like a shim it outlives the daemon.
//
//   rebound runner --run-dir /data/run --socket /data/run/job:runner.sock
//       [--parent-pid PID] [--connection-fd FD]
//
//   auto options = ParseJobRunnerArgs({"--run-dir", dir, "--socket", dir + "/job:runner.sock"});
//   if (!options.ok()) { std::cerr << options.error().message(); return kRunnerUsageExitCode; }
//   return RunJobRunner(*options);
//
// The daemon that starts it hands it one end of a socketpair (--connection-fd); a later daemon
// connects to --socket and says hello (supervise/runner_protocol.h). The runner exits once it
// has no daemon connected and no job running, or, after SIGTERM/SIGINT (forwarded to every
// job's process group), once its jobs have ended.
//
// ParseJobRunnerArgs is pure. RunJobRunner takes over the calling process (session, signal
// mask): call it only from main, once.

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::supervise {

inline constexpr int kRunnerFailedExitCode = 1;  // could not set up (socket, epoll)
inline constexpr int kRunnerUsageExitCode = 2;
// As for the shim: the daemon that started the runner died before the runner ran, so the
// next daemon may have concluded that nothing runs; the runner starts nothing.
inline constexpr int kRunnerParentGoneExitCode = 3;
// Another runner holds RUN_DIR/job:runner.lock: one runner per run directory, so this one
// starts nothing and leaves that runner's socket alone (the daemon connects to it).
inline constexpr int kRunnerAlreadyRunningExitCode = 4;

struct JobRunnerOptions {
  std::string run_dir;      // NAME.child and NAME.exit of every job
  std::string socket_path;  // where later daemons connect
  std::optional<int> parent_pid = {};
  std::optional<int> connection_fd = {};  // the starting daemon's end of a socketpair

  bool operator==(const JobRunnerOptions&) const = default;
};

// "RUN_DIR/job:runner.sock": where a daemon looks for the runner of its data directory.
std::string JobRunnerSocketPath(const std::string& run_dir);
// "RUN_DIR/job:runner.lock": flocked by the live runner for its whole life.
std::string JobRunnerLockPath(const std::string& run_dir);

// `args` are the words after "runner". A validation Error names the option.
Result<JobRunnerOptions> ParseJobRunnerArgs(const std::vector<std::string>& args);
std::string JobRunnerUsage();

// Runs until the exit condition above; 0 on a normal exit.
int RunJobRunner(const JobRunnerOptions& options);

// Entry point for `rebound runner ARGS...` (--help, argument errors, then RunJobRunner).
int JobRunnerMain(const std::vector<std::string>& args);

}  // namespace rebound::supervise
