#pragma once

// RunnerLauncher: the ProcessLauncher of durable jobs. Every job attempt runs under one
// shared `rebound runner` (job_runner.h) instead of a shim of its own, which saves an exec
// and a process setup per job (docs/benchmarks.md, "Durable jobs"). The records are the
// shims' (RUN_DIR/NAME.child, RUN_DIR/NAME.exit, kept after an exit until DiscardRecords,
// like ShimLauncher with keep_records_after_exit), so recovery reads them the same way.
//
//   RunnerLauncher launcher({.runner_binary = "/usr/bin/rebound-runner",
//                            .run_dir = data + "/run", .log_dir = data + "/logs"},
//                           reactor, DefaultFileSystem());
//   launcher.Launch(spec, on_exit);   // the first launch starts the runner
//
// The runner is started at the first Launch, with one end of a socketpair; it survives the
// daemon. Every connection starts with a hello that offers `forget`; a runner whose answer
// offers it too may report an exit it has not written: it keeps it until DiscardRecords
// (called once the outcome is committed) sends `forget`, and writes it to RUN_DIR/NAME.exit
// durably if the connection ends first. An outcome whose commit failed is never forgotten, so
// it is written then too. (Ending the connection to make the runner write it at once would be
// a reconnect whose hello is read on the reactor and answered only after the runner's flushes,
// on a disk that is failing already: up to the socket timeout per failed commit, with every
// service waiting too.) An older runner writes every record before it reports it.
// The first Adopt (after a daemon restart) looks for a live runner of this run directory (its
// command line in /proc, then its socket), asks it which jobs run, and re-adopts those. A job the
// runner does not know is judged by its exit record: present → that outcome; absent → an exit
// without a record (unknown outcome). Only the runner's pidfd says it died: a connection that ends,
// breaks (a failed or partial send) or stays silent while the runner lives is closed and
// reconnected (hello), and no job is killed or judged. When the runner dies, every job it ran is
// judged the same way, and an orphaned job still running is killed (pid and /proc start time
// checked). The next Launch starts a new runner.
//
// Loop-thread only. The watcher and file system must outlive it.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/fd_watcher.h"
#include "base/file_system.h"
#include "supervise/launcher.h"
#include "supervise/runner_protocol.h"

namespace rebound::supervise {

struct RunnerLauncherOptions {
  // The executable that provides `rebound runner`: rebound-runner, or the rebound binary
  // itself ("/proc/self/exe"). Either is run as `rebound runner --run-dir RUN_DIR ...`.
  std::string runner_binary;
  std::string run_dir;
  std::string log_dir;  // NAME.log of each job, and job:runner.log (the runner's stderr)
};

class RunnerLauncher final : public ProcessLauncher {
 public:
  RunnerLauncher(RunnerLauncherOptions options, FdWatcher& watcher, FileSystem& fs);
  ~RunnerLauncher() override;

  Result<LaunchedProcess> Launch(const ServiceSpec& spec, ExitCallback on_exit) override;
  Result<Adoption> Adopt(const ServiceSpec& spec, ExitCallback on_exit) override;
  Status Signal(const std::string& name, int signal) override;
  Status Kill(const std::string& name) override;
  std::optional<int> ChildPid(const std::string& name) override;
  // Removes the records of `name` unless it is running, and tells the runner to forget the
  // exit it reported over this connection (it kept that record in memory, not on disk).
  void DiscardRecords(const std::string& name) override;

  // The runner's pid while one is connected, else 0.
  int runner_pid() const { return runner_pid_; }

 private:
  struct Job {
    ExitCallback on_exit;
    std::optional<int> child_pid = {};
  };

  Status EnsureRunner();
  // Finds a runner an earlier daemon started and connects to it; not_found if none lives.
  Status ConnectToLiveRunner();
  Status StartRunner();
  Status Connected(int pid, int pidfd, int socket);
  Status WatchConnection(int socket);
  // Connects again to the live runner and says hello.
  Status Reconnect();
  Status ConnectAndAsk();
  void CloseConnection();
  void OnConnectionLost();
  Status AskWhatRuns();
  void Reconcile();
  void Defer();
  void OnDeferred();
  void HandleBufferedLines();
  Status Send(const RunnerRequest& request);
  void OnReadable();
  // False at the end of the stream (the runner is gone).
  bool ReadEvents();
  void OnEvent(const RunnerEvent& event);
  void OnRunnerGone(const std::string& why);
  void Report(const std::string& name, const ExitInfo& exit);
  // The outcome of a job whose runner is gone: its exit record, else an unknown outcome.
  ExitInfo OutcomeFromRecords(const std::string& name, const std::string& why);

  RunnerLauncherOptions options_;
  FdWatcher& watcher_;
  FileSystem& fs_;
  int runner_pid_ = 0;
  int runner_pidfd_ = -1;
  int socket_ = -1;
  LineBuffer incoming_;
  bool looked_for_live_runner_ = false;
  std::map<std::string, int> running_at_connect_;  // name -> child pid, from the hello answer
  std::map<std::string, Job> jobs_;
  std::map<std::string, ExitInfo> exited_before_adopt_;             // exits heard before the Adopt
  std::vector<std::pair<std::string, ExitInfo>> deferred_reports_;  // from Reconcile
  int deferred_fd_ = -1;  // an eventfd, readable while OnDeferred is due
  bool reconnecting_ = false;
  // Jobs whose `exited` came over the current connection and that the runner keeps in memory
  // until `forget` (it writes them to disk if the connection ends first).
  std::set<std::string> told_exits_;
  // Of told_exits_, those whose child record the runner said is in its table (`kept`): their
  // discard removes no NAME.child.
  std::set<std::string> kept_exits_;
  // The runner's answer to this connection's hello said it understands `forget`; an older
  // runner would refuse it (it writes every exit to disk instead).
  bool runner_forgets_ = false;
};

}  // namespace rebound::supervise
