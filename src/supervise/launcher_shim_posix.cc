#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "base/clock.h"
#include "base/spawn.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "supervise/shim.h"

extern char** environ;

namespace rebound::supervise {
namespace {

int PidfdOpen(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// Signals through the pidfd: never reaches another process that reused the pid.
int PidfdSendSignal(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

// "rebound shim --name NAME --run-dir DIR ...", as ShimArguments writes it.
bool IsShimCommandLine(const std::vector<std::string>& args, const std::string& run_dir) {
  return args.size() > 5 && args[1] == "shim" && args[2] == "--name" && args[4] == "--run-dir" &&
         args[5] == run_dir;
}

}  // namespace

// The shim's command line is "rebound shim --name NAME --run-dir DIR ...": a pid that does not
// show both is not our shim, whatever the records say.
bool IsShimFor(FileSystem& fs, int pid, const std::string& name, const std::string& run_dir) {
  const std::vector<std::string> args = ProcessCommandLine(fs, pid);
  return IsShimCommandLine(args, run_dir) && args[3] == name;
}

namespace {

ShimRespawn ShimRespawnFor(RestartPolicy policy) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return ShimRespawn::kAlways;
    case RestartPolicy::kOnFailure:
      return ShimRespawn::kOnFailure;
    case RestartPolicy::kNever:
      return ShimRespawn::kNever;
  }
  return ShimRespawn::kNever;
}

// How the shim at `pid` restarts by itself, read with the shim's own parser from its command
// line: an adopted shim keeps the --respawn and --stop-signal of the daemon that started it
// (kNever if it has none, or predates them).
std::pair<ShimRespawn, int> ShimRespawnOf(FileSystem& fs, int pid) {
  std::vector<std::string> args = ProcessCommandLine(fs, pid);
  if (args.size() < 2) {
    return {ShimRespawn::kNever, SIGTERM};
  }
  auto options = ParseShimArgs(std::vector<std::string>(args.begin() + 2, args.end()));
  if (!options.ok()) {
    return {ShimRespawn::kNever, SIGTERM};
  }
  return {options->respawn, options->stop_signal.value_or(SIGTERM)};
}

// The daemon's environment plus the service's own variables (which override). Passed as the
// environment, never on the command line, which every local user can read in /proc.
std::vector<std::string> Environment(const ServiceSpec& spec) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    if (!spec.env.contains(variable.substr(0, variable.find('=')))) {
      env.push_back(variable);
    }
  }
  for (const auto& [key, value] : spec.env) {
    env.push_back(key + "=" + value);
  }
  return env;
}

Result<int> Spawn(const std::string& executable, const std::vector<std::string>& args,
                  const std::vector<std::string>& env) {
  std::vector<char*> argv = ExecPointers(args);
  std::vector<char*> envp = ExecPointers(env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; ++fd) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  // The daemon's listening socket and database must not live on in a shim.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Blocked from the start: an allowance sent before the shim reads its signalfd waits.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, RespawnAllowanceSignal());
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attributes, &blocked);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, executable.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    return ErrnoError(rc, "start shim " + executable);
  }
  return static_cast<int>(pid);
}

}  // namespace

ShimLauncher::ShimLauncher(ShimLauncherOptions options, FdWatcher& watcher, FileSystem& fs)
    : options_(std::move(options)), watcher_(watcher), fs_(fs) {}

ShimLauncher::~ShimLauncher() {
  for (auto& [name, shim] : shims_) {
    watcher_.UnwatchFd(shim.pidfd);
    ::close(shim.pidfd);
  }
  for (int fd : {inotify_fd_, report_timer_fd_}) {
    if (fd >= 0) {
      watcher_.UnwatchFd(fd);
      ::close(fd);
    }
  }
}

std::vector<std::string> ShimLauncher::ShimArguments(const ServiceSpec& spec) const {
  std::vector<std::string> args = {"rebound",         "shim",
                                   "--name",          spec.name,
                                   "--run-dir",       options_.run_dir,
                                   "--log",           options_.log_dir + "/" + spec.name + ".log",
                                   "--log-max-bytes", std::to_string(spec.log.max_bytes),
                                   "--log-keep",      std::to_string(spec.log.keep),
                                   "--parent-pid",    std::to_string(::getpid())};
  if (options_.exit_records == FileDurability::kAtomicOnly) {
    args.insert(args.end(), {"--exit-record", "atomic"});
  }
  if (options_.respawn && spec.restart != RestartPolicy::kNever) {
    args.insert(args.end(), {"--respawn", std::string(RestartPolicyName(spec.restart)),
                             "--stop-signal", std::to_string(spec.stop_signal)});
  }
  if (!spec.cwd.empty()) {
    args.insert(args.end(), {"--cwd", spec.cwd});
  }
  args.push_back("--");
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

Result<LaunchedProcess> ShimLauncher::Launch(const ServiceSpec& spec, ExitCallback on_exit) {
  auto pid = Spawn(options_.rebound_binary, ShimArguments(spec), Environment(spec));
  if (!pid.ok()) {
    return pid.error();
  }
  const int pidfd = PidfdOpen(*pid);
  Status watched = pidfd >= 0 ? Watch(spec.name, *pid, pidfd, std::move(on_exit))
                              : Status(ErrnoError(errno, "pidfd_open of the shim of " + spec.name));
  if (!watched.ok()) {
    // Unwatched, it would run on while the supervisor starts another: take it down now.
    ::kill(*pid, SIGKILL);
    ::waitpid(*pid, nullptr, 0);
    return watched.error();
  }
  Shim& shim = shims_[spec.name];
  shim.respawns = options_.respawn && spec.restart != RestartPolicy::kNever;
  shim.same_policy = true;
  // The service's pid is in the child record the shim writes a moment later: ChildPid() reads
  // it then. Not waiting for it here keeps the reactor free while many services start.
  return LaunchedProcess{.shim_pid = *pid, .started = std::chrono::system_clock::now()};
}

Status ShimLauncher::Watch(const std::string& name, int shim_pid, int pidfd, ExitCallback on_exit) {
  Status watched = watcher_.WatchFd(pidfd, [this, name] { OnShimExit(name); });
  if (!watched.ok()) {
    ::close(pidfd);
    return watched;
  }
  shims_[name] = Shim{shim_pid, pidfd, std::move(on_exit), std::nullopt};
  return OkStatus();
}

void ShimLauncher::OnShimExit(const std::string& name) {
  CheckRespawn(name);  // restarts it did before it ended come first, as they happened
  auto it = shims_.find(name);
  if (it == shims_.end()) {
    return;
  }
  Shim shim = std::move(it->second);
  shims_.erase(it);
  watcher_.UnwatchFd(shim.pidfd);
  siginfo_t info{};
  // Reaps a shim this daemon started; an adopted one is not our child (ECHILD: nothing to do).
  (void)::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(shim.pidfd), &info,
                 WEXITED | WNOHANG);
  ::close(shim.pidfd);
  const ExitInfo exit = ReadOutcome(name, shim.pid, info);
  // Handled by a live daemon from here on: the records only serve one that was not watching.
  if (!options_.keep_records_after_exit) {
    RemoveRecords(name);
  }
  shim.on_exit(exit);
}

void ShimLauncher::RemoveRecords(const std::string& name) {
  (void)fs_.RemoveFile(ExitRecordPath(options_.run_dir, name));
  (void)fs_.RemoveFile(ChildRecordPath(options_.run_dir, name));
}

ExitInfo ShimLauncher::ReadOutcome(const std::string& name, int shim_pid, const siginfo_t& reaped) {
  auto record = ReadExitRecord(fs_, ExitRecordPath(options_.run_dir, name));
  if (record.ok() && record->shim_pid == shim_pid) {
    return ExitInfo{.exit_code = record->exit_code,
                    .signal = record->signal,
                    .ended = FromUnixMillis(record->ended_ms),
                    .description = DescribeExit(*record)};
  }
  std::string how;
  if (reaped.si_pid != 0) {
    how = reaped.si_code == CLD_EXITED
              ? " (it exited with code " + std::to_string(reaped.si_status) + ")"
              : " (it was killed by " + SignalName(reaped.si_status) + ")";
  }
  const bool killed_orphan = KillRecordedChild(name, shim_pid) == RecordedChild::kKilled;
  return ExitInfo{.ended = std::chrono::system_clock::now(),
                  .description = "its shim ended without recording an exit" + how +
                                 (killed_orphan ? "; killed the orphaned service" : "")};
}

ShimLauncher::RecordedChild ShimLauncher::KillRecordedChild(const std::string& name,
                                                            std::optional<int> shim_pid) {
  auto child = ReadChildRecord(fs_, ChildRecordPath(options_.run_dir, name));
  if (!child.ok() || (shim_pid && child->shim_pid != *shim_pid)) {
    return RecordedChild::kNoRecord;
  }
  auto start_time = ProcessStartTime(child->child_pid);
  if (!start_time.ok()) {
    return start_time.error().category() == ErrorCategory::kNotFound ? RecordedChild::kGone
                                                                     : RecordedChild::kUnverified;
  }
  if (*start_time != child->child_start_time) {
    // A recorded 0 (unreadable at the time) matches nothing, and proves nothing either.
    return child->child_start_time != 0 ? RecordedChild::kGone : RecordedChild::kUnverified;
  }
  if (::kill(-child->child_pid, SIGKILL) == 0) {
    return RecordedChild::kKilled;
  }
  return errno == ESRCH ? RecordedChild::kGone : RecordedChild::kUnverified;
}

const std::map<std::string, int>& ShimLauncher::LiveShims() {
  if (live_shims_) {
    return *live_shims_;
  }
  live_shims_.emplace();
  auto entries = fs_.ListDir("/proc");
  for (const std::string& entry : entries.value_or(std::vector<std::string>{})) {
    if (entry.empty() || !std::all_of(entry.begin(), entry.end(), ::isdigit)) {
      continue;
    }
    const std::vector<std::string> args = ProcessCommandLine(fs_, std::stoi(entry));
    if (IsShimCommandLine(args, options_.run_dir)) {
      (*live_shims_)[args[3]] = std::stoi(entry);
    }
  }
  return *live_shims_;
}

Result<Adoption> ShimLauncher::AdoptStartingShim(const ServiceSpec& spec, ExitCallback on_exit) {
  const auto found = LiveShims().find(spec.name);
  if (found == LiveShims().end()) {
    return Adoption{};  // never started, or cleaned up after a clean stop
  }
  const int shim_pid = found->second;
  const int pidfd = PidfdOpen(shim_pid);
  if (pidfd < 0 || !IsShimFor(fs_, shim_pid, spec.name, options_.run_dir) ||
      PidfdSendSignal(pidfd, 0) != 0) {
    if (pidfd >= 0) {
      ::close(pidfd);
    }
    return Adoption{};  // it has gone since the scan, or the pid is another process now
  }
  REBOUND_RETURN_IF_ERROR(Watch(spec.name, shim_pid, pidfd, std::move(on_exit)));
  SetAdoptedPolicy(shims_[spec.name], spec);
  return Adoption{.outcome = AdoptOutcome::kRunning,
                  .process = {.shim_pid = shim_pid, .started = std::chrono::system_clock::now()}};
}

// An adopted shim restarts by the --respawn and --stop-signal of the daemon that started it.
// Only when they are this spec's may it be granted restarts (a shim started with `always` must
// not restart a clean exit of a service that is now `on-failure`); otherwise it gets revokes
// and its exits come to the supervisor.
void ShimLauncher::SetAdoptedPolicy(Shim& shim, const ServiceSpec& spec) {
  const auto [respawn, stop_signal] = ShimRespawnOf(fs_, shim.pid);
  shim.respawns = options_.respawn && respawn != ShimRespawn::kNever;
  shim.same_policy = respawn == ShimRespawnFor(spec.restart) && stop_signal == spec.stop_signal;
}

Result<Adoption> ShimLauncher::Adopt(const ServiceSpec& spec, ExitCallback on_exit) {
  if (options_.respawn) {
    // Before NAME.child is read: a restart the shim records after that read is then reported
    // by the watch (a failure here is retried, and handled, by WatchRespawns).
    (void)WatchChildRecords();
  }
  auto child = ReadChildRecord(fs_, ChildRecordPath(options_.run_dir, spec.name));
  if (!child.ok()) {
    return AdoptStartingShim(spec, std::move(on_exit));
  }
  // Liveness first, the exit record second: a shim writes its record before it exits, so once
  // it is seen dead its record (if any) is on disk. The other order races with a shim that
  // finishes in between: no record yet, then no shim, and a real outcome would be discarded
  // as "gone without an exit record" (and a finished job run again).
  // Open the pidfd first, then check who it is: the pidfd cannot drift to a reused pid.
  const int pidfd = PidfdOpen(child->shim_pid);
  const bool alive = pidfd >= 0 && IsShimFor(fs_, child->shim_pid, spec.name, options_.run_dir) &&
                     PidfdSendSignal(pidfd, 0) == 0;
  auto record = ReadExitRecord(fs_, ExitRecordPath(options_.run_dir, spec.name));
  if (record.ok() && record->shim_pid == child->shim_pid) {
    if (pidfd >= 0) {
      ::close(pidfd);
    }
    if (!options_.keep_records_after_exit) {
      RemoveRecords(spec.name);  // this daemon handles the exit now; never replay it
    }
    return Adoption{.outcome = AdoptOutcome::kExitedMeanwhile,
                    .exit = {.exit_code = record->exit_code,
                             .signal = record->signal,
                             .ended = FromUnixMillis(record->ended_ms),
                             .description = DescribeExit(*record) + " while no daemon watched"}};
  }
  if (alive) {
    REBOUND_RETURN_IF_ERROR(Watch(spec.name, child->shim_pid, pidfd, std::move(on_exit)));
    Shim& shim = shims_[spec.name];
    SetAdoptedPolicy(shim, spec);
    shim.generation = child->generation;
    shim.child_pid = child->child_pid;
    return Adoption{.outcome = AdoptOutcome::kRunning,
                    .process = {.shim_pid = child->shim_pid,
                                .child_pid = child->child_pid,
                                .started = FromUnixMillis(child->started_ms),
                                .generation = child->generation}};
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  const bool killed_orphan = KillRecordedChild(spec.name, std::nullopt) == RecordedChild::kKilled;
  RemoveRecords(spec.name);
  return Adoption{.outcome = AdoptOutcome::kExitedMeanwhile,
                  .exit = {.ended = std::chrono::system_clock::now(),
                           .description = std::string("its shim is gone without an exit record") +
                                          (killed_orphan ? "; killed the orphaned service" : "")}};
}

Status ShimLauncher::Signal(const std::string& name, int signal) {
  if (signal == SIGKILL) {
    return Kill(name);  // a shim cannot forward SIGKILL: it would die instead of recording
  }
  auto it = shims_.find(name);
  if (it == shims_.end()) {
    return NotFoundError("no running shim for " + name);
  }
  if (PidfdSendSignal(it->second.pidfd, signal) != 0) {
    return ErrnoError(errno, "signal the shim of " + name);
  }
  return OkStatus();
}

Status ShimLauncher::Kill(const std::string& name) {
  auto it = shims_.find(name);
  if (it == shims_.end()) {
    return NotFoundError("no running shim for " + name);
  }
  Shim& shim = it->second;
  if (shim.allowance_unsure) {
    // It may still hold an allowance we could not revoke and would restart what we kill: the
    // shim goes first; its exit handling kills the group NAME.child names (ReadOutcome).
    return KillShim(name, shim);
  }
  switch (KillRecordedChild(name, shim.pid)) {
    case RecordedChild::kKilled:
      return OkStatus();
    case RecordedChild::kGone:
      // A shim that restarts its service writes the new child's record just after the spawn:
      // killing the shim in between would orphan that child. Its allowance was revoked before
      // this kill, so it either exits (and is handled as any exit) or has already restarted
      // and is about to name the child, which is killed then (CheckRespawn). Only a watched
      // shim's next record is seen at once.
      if (shim.respawns && shim.records_watched) {
        shim.kill_pending = true;
        return OkStatus();
      }
      return KillShim(name, shim);
    case RecordedChild::kUnverified:
    case RecordedChild::kNoRecord:
      // Alive but not provably ours, or no record yet (the service is just starting): kill
      // the shim; the group goes with the exit handling (KillRecordedChild).
      return KillShim(name, shim);
  }
  return KillShim(name, shim);
}

Status ShimLauncher::KillShim(const std::string& name, const Shim& shim) {
  if (PidfdSendSignal(shim.pidfd, SIGKILL) != 0 && errno != ESRCH) {
    const int error = errno;
    return ErrnoError(error, "kill the shim of " + name);
  }
  return OkStatus();
}

void ShimLauncher::DiscardRecords(const std::string& name) {
  if (!shims_.contains(name)) {
    RemoveRecords(name);
  }
}

std::optional<int> ShimLauncher::ChildPid(const std::string& name) {
  auto it = shims_.find(name);
  if (it == shims_.end()) {
    return std::nullopt;
  }
  if (!it->second.child_pid) {
    auto child = ReadChildRecord(fs_, ChildRecordPath(options_.run_dir, name));
    if (child.ok() && child->shim_pid == it->second.pid) {
      it->second.child_pid = child->child_pid;
    }
  }
  return it->second.child_pid;
}

}  // namespace rebound::supervise
