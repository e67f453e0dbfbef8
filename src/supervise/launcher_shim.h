#pragma once

// ShimLauncher: the real ProcessLauncher. Each service runs under its own `rebound shim`
// (see shim.h), which owns the service's process group and log, and writes
// RUN_DIR/NAME.child when the service starts and RUN_DIR/NAME.exit when it ends. The daemon
// watches each shim through a pidfd, so a crash of the daemon costs the services nothing:
// Adopt() finds them again (shim pid checked against its command line through a pidfd; the
// service's pid against its /proc start time before it is killed, so a reused pid is never
// adopted or signalled).
//
// With `respawn`, shims of services that restart get `--respawn`: SetRespawnAllowance sends
// them the allowance (docs/shim.md, "Restarting without the daemon"), and a restart they make
// is reported through WatchRespawns from their rewritten NAME.child (one inotify watch on
// RUN_DIR for all of them). Only a shim whose restarts are watched and whose --respawn and
// --stop-signal are its spec's is granted restarts; any other gets revokes only.
//
//   ShimLauncher launcher({.rebound_binary = "/usr/bin/rebound", .run_dir = data + "/run",
//                          .log_dir = data + "/logs"}, reactor, DefaultFileSystem());
//
// Loop-thread only (like the Supervisor that drives it). The watcher and file system must
// outlive it.

#include <signal.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/atomic_file.h"
#include "base/fd_watcher.h"
#include "base/file_system.h"
#include "supervise/launcher.h"

namespace rebound::supervise {

// Whether `pid` is a live `rebound shim --name NAME --run-dir RUN_DIR` (its command line, read
// through `fs` from /proc/PID/cmdline): what a record's shim pid must be before it is adopted
// or signalled, and before the daemon calls a run directory in use (engine/run_dir.h).
bool IsShimFor(FileSystem& fs, int pid, const std::string& name, const std::string& run_dir);

struct ShimLauncherOptions {
  // The executable that provides `rebound shim`: rebound-shim, or the rebound binary itself
  // ("/proc/self/exe"). Either is run as `rebound shim --name NAME ...`.
  std::string rebound_binary;
  std::string run_dir;  // child and exit records
  std::string log_dir;  // NAME.log and its rotations
  // Keep NAME.child and NAME.exit after an exit has been reported, until DiscardRecords:
  // for durable jobs, whose outcome must survive a daemon crash until it is in the store.
  bool keep_records_after_exit = false;
  // How shims write NAME.exit (`--exit-record`). The daemon uses kAtomicOnly for services and
  // jobs alike: a service's record only bridges a daemon crash, and a job's outcome becomes
  // durable at the store's commit (docs/shim.md and docs/jobs.md say why that loses nothing).
  // kDurable (two fsyncs per exit) is for a caller with no store behind it.
  FileDurability exit_records = FileDurability::kDurable;
  // Start shims with `--respawn POLICY --stop-signal N` (services whose policy restarts), so
  // that they restart their service themselves under an allowance (SetRespawnAllowance).
  // Their NAME.child rewrites are watched with inotify on run_dir. Jobs leave it off.
  bool respawn = false;
  // How long after a shim's restart the daemon reads its NAME.child: reading it, journaling
  // and publishing the restart at once would compete for the CPU with the service that has
  // just been started (on 2 cores, by ~0.7 ms of its start, docs/benchmarks.md). The restart
  // is reported to the supervisor this much later (and the changes of that interval in one
  // wake: a start of many services wakes the daemon once, not once per record); an exit of
  // the shim reports it at once. Zero: at each inotify wake.
  std::chrono::milliseconds respawn_report_delay{5};
};

class ShimLauncher final : public ProcessLauncher {
 public:
  ShimLauncher(ShimLauncherOptions options, FdWatcher& watcher, FileSystem& fs);
  ~ShimLauncher() override;

  Result<LaunchedProcess> Launch(const ServiceSpec& spec, ExitCallback on_exit) override;
  Result<Adoption> Adopt(const ServiceSpec& spec, ExitCallback on_exit) override;
  Status Signal(const std::string& name, int signal) override;
  Status Kill(const std::string& name) override;
  std::optional<int> ChildPid(const std::string& name) override;
  // Removes the records of `name` unless a shim of that name is running.
  void DiscardRecords(const std::string& name) override;
  bool SupportsRespawn() const override { return options_.respawn; }
  // Sent as RespawnAllowanceSignal() with G in si_value, through the shim's pidfd; only to a
  // shim started with --respawn (an older shim would die of the signal). A shim whose restarts
  // are not watched, or whose --respawn/--stop-signal differ from its spec's (adopted across a
  // config change), gets revokes only: G is lowered to its known generation.
  Status SetRespawnAllowance(const std::string& name, uint64_t generation) override;
  // If the run-dir watch cannot be set up, revokes the shim's allowance and returns the error;
  // its restarts are then still reported, when it exits.
  Status WatchRespawns(const std::string& name, RespawnCallback on_respawn) override;

 private:
  struct Shim {
    int pid = 0;
    int pidfd = -1;
    ExitCallback on_exit;
    std::optional<int> child_pid = {};  // from the child record, once read
    // Started with --respawn: the allowance signal is safe to send (it would kill an older
    // shim), and each NAME.child it rewrites is a restart it made.
    bool respawns = false;
    // Its --respawn and --stop-signal are the current spec's: always for a shim we started; an
    // adopted one keeps those of the daemon that started it.
    bool same_policy = false;
    // The run-dir watch reports its restarts as they happen (WatchRespawns set it up).
    bool records_watched = false;
    // The last allowance sent did not arrive (EAGAIN: too many signals pending): it may still
    // hold one the supervisor meant to revoke, so Kill() takes the shim down too.
    bool allowance_unsure = false;
    uint64_t generation = 0;  // the latest restart generation reported
    RespawnCallback on_respawn = {};
    // Kill() found NAME.child naming a child that is gone: the shim is restarting the service
    // (it writes the new record a moment after the spawn) or about to exit. The next record
    // it writes names the child to kill.
    bool kill_pending = false;
  };
  // What KillRecordedChild found.
  enum class RecordedChild {
    kKilled,      // its process group got SIGKILL
    kGone,        // no such process, or the pid is another process now (start times differ)
    kUnverified,  // alive but not provably ours (start time recorded as 0), or kill failed
    kNoRecord,    // no NAME.child of this shim
  };

  // Takes ownership of pidfd.
  Status Watch(const std::string& name, int shim_pid, int pidfd, ExitCallback on_exit);
  // One inotify watch on run_dir for every shim's NAME.child (renamed into place).
  Status WatchChildRecords();
  void OnRunDirChanged();
  bool ArmReportTimer();
  void ReportRespawns();
  // The NAME of each NAME.child renamed into run_dir since the last call.
  std::set<std::string> ChangedChildRecords();
  // Reports restarts the shim of `name` recorded in NAME.child since the last report.
  void CheckRespawn(const std::string& name);
  void RemoveRecords(const std::string& name);
  void OnShimExit(const std::string& name);
  ExitInfo ReadOutcome(const std::string& name, int shim_pid, const siginfo_t& reaped);
  // Kills the service's process group if the child record names a live process of ours.
  RecordedChild KillRecordedChild(const std::string& name, std::optional<int> shim_pid);
  Status KillShim(const std::string& name, const Shim& shim);
  // Sends G; ESRCH (the shim has just exited) counts as delivered: it restarts nothing.
  Status SendAllowance(const std::string& name, Shim& shim, uint64_t generation);
  void StopWatchingChildRecords();
  std::vector<std::string> ShimArguments(const ServiceSpec& spec) const;
  // A shim started just before the previous daemon died has not written its child record
  // yet, but its service may already run: it is found by its command line and adopted.
  Result<Adoption> AdoptStartingShim(const ServiceSpec& spec, ExitCallback on_exit);
  // The respawns/same_policy of an adopted shim, from its command line.
  void SetAdoptedPolicy(Shim& shim, const ServiceSpec& spec);
  // NAME -> pid of every live `rebound shim --name NAME --run-dir RUN_DIR` of ours, read from
  // /proc once, at the first Adopt that needs it (adoption happens at startup).
  const std::map<std::string, int>& LiveShims();

  ShimLauncherOptions options_;
  FdWatcher& watcher_;
  FileSystem& fs_;
  std::map<std::string, Shim> shims_;
  std::optional<std::map<std::string, int>> live_shims_;
  int inotify_fd_ = -1;
  int report_timer_fd_ = -1;         // respawn_report_delay after the first unreported change
  bool report_timer_armed_ = false;  // and the inotify watch paused until it fires
};

}  // namespace rebound::supervise
