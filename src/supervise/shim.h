#pragma once

// `rebound shim`: the small process that parents each supervised service (DESIGN.md,
// "Processes: shims and re-adoption"; the contract is in docs/shim.md).
//
//   rebound shim --name api --run-dir /run/rebound --log /var/log/rebound/api.log
//       [--log-max-bytes N] [--log-keep K] [--parent-pid PID] [--exit-record durable|atomic]
//       [--respawn always|on-failure] [--stop-signal N]
//       [--cwd DIR] [--env KEY=VALUE]... -- COMMAND [ARGS...]
//
//   auto options = ParseShimArgs({"--name", "api", ..., "--", "redis-server"});
//   if (!options.ok()) { std::cerr << options.error().message(); return kShimUsageExitCode; }
//   return RunShim(*options);
//
// The shim leaves its session, starts COMMAND in its own process group with its output in a
// size-rotated log, forwards stop signals to that group, writes NAME.child once the service
// runs and NAME.exit once it ends (durably unless --exit-record atomic), then exits 0. It
// outlives the daemon. With --respawn, it restarts the service itself while the daemon's
// allowance lets it (RespawnAllowanceSignal below), rewriting NAME.child each time.
//
// ParseShimArgs is pure. RunShim takes over the calling process
// (session, signal mask, dispositions): call it only from main, once.

#include <signal.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/atomic_file.h"
#include "base/error.h"

namespace rebound::supervise {

// Exit status of `rebound shim` for a bad command line (as getopt-style tools use).
inline constexpr int kShimUsageExitCode = 2;
// Exit status when the service ended but its exit record could not be written: the daemon
// must not mistake this for a clean record.
inline constexpr int kShimRecordFailedExitCode = 1;
// Exit status when the process that started the shim (--parent-pid) was no longer its parent
// by the time the shim ran: it started nothing and wrote no record.
inline constexpr int kShimParentGoneExitCode = 3;

// The real-time signal that carries the daemon's respawn allowance to a shim: si_value holds
// G, "you may restart your service yourself while your restart generation is below G". Always
// blocked in a shim (never forwarded); the daemon starts shims with it blocked, so an
// allowance sent before the shim has set up its signalfd waits instead of killing it.
inline int RespawnAllowanceSignal() { return SIGRTMIN + 1; }

// Which exits a shim started with --respawn may restart by itself.
enum class ShimRespawn { kNever, kAlways, kOnFailure };

struct ShimOptions {
  std::string name;      // service name: a file name, no '/'
  std::string run_dir;   // where NAME.child and NAME.exit go
  std::string log_path;  // FILE; rotated copies are FILE.1 ... FILE.K
  uint64_t log_max_bytes = 10 * 1024 * 1024;
  int log_keep = 5;
  std::optional<std::string> cwd = {};
  // Added to (or replacing entries of) the shim's own environment, in command-line order;
  // a PATH given here is also the one COMMAND is looked up in.
  std::vector<std::pair<std::string, std::string>> env = {};
  // The daemon that starts the shim. A daemon killed while it starts a shim (posix_spawn's
  // child not yet exec'd) leaves a process that the next daemon cannot recognize by its
  // command line, so that daemon may decide the service or job never started and start
  // another. A shim whose parent is no longer this pid when it runs therefore starts nothing.
  std::optional<int> parent_pid = {};
  // How NAME.exit is written: kDurable (fsynced, the default: for a caller with no store
  // behind it) or kAtomicOnly, which the daemon asks for, for services and per-job shims alike
  // (the daemon journals a service's exit and commits a job's outcome; docs/shim.md).
  FileDurability exit_record = FileDurability::kDurable;
  // --respawn: the service's restart policy, for restarts the daemon allows in advance.
  ShimRespawn respawn = ShimRespawn::kNever;
  // --stop-signal: once the shim has forwarded it, it never restarts the service again.
  std::optional<int> stop_signal = {};
  std::vector<std::string> command;  // argv; command[0] via PATH

  bool operator==(const ShimOptions&) const = default;
};

// `args` are the words after "shim". A validation Error says what is wrong, naming the option.
Result<ShimOptions> ParseShimArgs(const std::vector<std::string>& args);

// The usage text shown with argument errors.
std::string ShimUsage();

// Runs the shim until the service ends; returns the shim's exit status (0 once the exit
// record is on disk).
int RunShim(const ShimOptions& options);

// Entry point for `rebound shim ARGS...`: prints the usage for --help alone (exit 0), prints
// argument errors to stderr (exit kShimUsageExitCode), else runs the shim.
int ShimMain(const std::vector<std::string>& args);

}  // namespace rebound::supervise
