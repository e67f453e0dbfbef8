// ShimLauncher, its services' own restarts (docs/shim.md, "Restarting without the daemon"):
// the allowance sent to each shim, the inotify watch on the run directory that reports a
// restart from the rewritten NAME.child, and the report to the supervisor.

#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/shim.h"

namespace rebound::supervise {
namespace {

// The allowance G rides in si_value, as sigqueue(3) would send it, but through the pidfd.
int PidfdSendAllowance(int pidfd, uint64_t generation) {
  siginfo_t info{};
  info.si_signo = RespawnAllowanceSignal();
  info.si_code = SI_QUEUE;  // a sender may only forge a negative code for another process
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = static_cast<int>(std::min<uint64_t>(generation, INT32_MAX));
  return static_cast<int>(
      ::syscall(SYS_pidfd_send_signal, pidfd, RespawnAllowanceSignal(), &info, 0));
}

ExitInfo PreviousExitInfo(const PreviousExit& exit) {
  return ExitInfo{.exit_code = exit.exit_code,
                  .signal = exit.signal,
                  .ended = FromUnixMillis(exit.ended_ms),
                  .description = DescribeExit(exit)};
}

}  // namespace

Status ShimLauncher::WatchChildRecords() {
  if (inotify_fd_ >= 0) {
    return OkStatus();
  }
  REBOUND_RETURN_IF_ERROR(fs_.CreateDirs(options_.run_dir));
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return ErrnoError(errno, "inotify_init1 for " + options_.run_dir);
  }
  // Records are renamed into place (base/atomic_file.h): a whole record, one event.
  if (::inotify_add_watch(fd, options_.run_dir.c_str(), IN_MOVED_TO) < 0) {
    const int error = errno;
    ::close(fd);
    return ErrnoError(error, "inotify_add_watch " + options_.run_dir);
  }
  if (Status watched = watcher_.WatchFd(fd, [this] { OnRunDirChanged(); }); !watched.ok()) {
    ::close(fd);
    return watched;
  }
  inotify_fd_ = fd;
  if (options_.respawn_report_delay > std::chrono::milliseconds::zero() && report_timer_fd_ < 0) {
    const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer >= 0 && watcher_.WatchFd(timer, [this] { ReportRespawns(); }).ok()) {
      report_timer_fd_ = timer;
    } else if (timer >= 0) {
      ::close(timer);  // reported at the wake instead
    }
  }
  return OkStatus();
}

// The first change wakes the reactor; the watch then pauses until the report, so a burst of
// records (a hundred services starting) costs one wake of the daemon, not one each.
void ShimLauncher::OnRunDirChanged() {
  if (report_timer_fd_ >= 0 && ArmReportTimer()) {
    watcher_.UnwatchFd(inotify_fd_);
    return;
  }
  ReportRespawns();
}

bool ShimLauncher::ArmReportTimer() {
  const auto delay =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.respawn_report_delay);
  itimerspec when{};
  when.it_value.tv_sec = static_cast<time_t>(delay.count() / 1'000'000'000);
  when.it_value.tv_nsec = static_cast<long>(delay.count() % 1'000'000'000);
  report_timer_armed_ = ::timerfd_settime(report_timer_fd_, 0, &when, nullptr) == 0;
  return report_timer_armed_;
}

void ShimLauncher::ReportRespawns() {
  bool watching = true;
  if (report_timer_armed_) {
    uint64_t expirations = 0;
    (void)::read(report_timer_fd_, &expirations, sizeof(expirations));
    report_timer_armed_ = false;
    watching = watcher_.WatchFd(inotify_fd_, [this] { OnRunDirChanged(); }).ok();
  }
  for (const std::string& name : ChangedChildRecords()) {
    CheckRespawn(name);
  }
  if (!watching) {
    StopWatchingChildRecords();
  }
}

// Restarts nobody hears of until their shim exits must not go on: every shim's allowance is
// revoked (and no more granted: SetRespawnAllowance) until a later WatchRespawns watches again.
// Restarts are still reported at each shim's exit (CheckRespawn), and a Kill no longer waits for
// a record that may never be seen.
void ShimLauncher::StopWatchingChildRecords() {
  ::close(inotify_fd_);
  inotify_fd_ = -1;
  for (auto& [name, shim] : shims_) {
    if (shim.records_watched) {
      shim.records_watched = false;
      (void)SendAllowance(name, shim, shim.generation);
    }
    if (shim.kill_pending) {  // it waited for a record that can no longer be seen
      shim.kill_pending = false;
      (void)Kill(name);
    }
  }
}

std::set<std::string> ShimLauncher::ChangedChildRecords() {
  std::set<std::string> names;
  alignas(inotify_event) char buffer[16 * 1024];
  ssize_t n = 0;
  while ((n = ::read(inotify_fd_, buffer, sizeof(buffer))) > 0) {
    for (ssize_t offset = 0; offset < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      const std::string file = event->len > 0 ? std::string(event->name) : std::string();
      if (file.ends_with(".child")) {
        names.insert(file.substr(0, file.size() - 6));
      }
      if ((event->mask & IN_Q_OVERFLOW) != 0) {
        for (const auto& [name, shim] : shims_) {  // events were lost: look at every record
          names.insert(name);
        }
      }
    }
  }
  return names;
}

void ShimLauncher::CheckRespawn(const std::string& name) {
  auto it = shims_.find(name);
  if (it == shims_.end() || !it->second.respawns) {
    return;
  }
  auto record = ReadChildRecord(fs_, ChildRecordPath(options_.run_dir, name));
  if (!record.ok() || record->shim_pid != it->second.pid) {
    return;
  }
  Shim& shim = it->second;
  shim.child_pid = record->child_pid;
  if (shim.kill_pending) {
    shim.kill_pending = false;  // Kill() defers again if this record names a dead child too
    (void)Kill(name);
  }
  if (record->generation <= shim.generation || !shim.on_respawn) {
    return;
  }
  shim.generation = record->generation;
  Respawn respawn{.generation = record->generation,
                  .child_pid = record->child_pid,
                  .started = FromUnixMillis(record->started_ms)};
  if (record->previous_exit) {
    respawn.previous_exit = PreviousExitInfo(*record->previous_exit);
  }
  RespawnCallback on_respawn = shim.on_respawn;  // the callback may change shims_
  on_respawn(respawn);
}

Status ShimLauncher::WatchRespawns(const std::string& name, RespawnCallback on_respawn) {
  auto it = shims_.find(name);
  if (it == shims_.end() || !it->second.respawns) {
    return OkStatus();
  }
  Shim& shim = it->second;
  shim.on_respawn = std::move(on_respawn);  // at the latest, its exit reports its restarts
  Status watched = WatchChildRecords();
  if (watched.ok()) {
    shim.records_watched = true;
    return OkStatus();
  }
  // Restarts we would only hear of at its exit must not happen: an adopted shim may hold an
  // allowance from the daemon before us, which nothing else would take back.
  Status revoked = SendAllowance(name, shim, shim.generation);
  return watched.error().WithContext(
      "restarts by the shim of " + name + " are not reported until it exits; its allowance " +
      (revoked.ok() ? "is revoked" : "could not be revoked (" + revoked.error().message() + ")"));
}

Status ShimLauncher::SetRespawnAllowance(const std::string& name, uint64_t generation) {
  auto it = shims_.find(name);
  if (it == shims_.end() || !it->second.respawns) {
    return OkStatus();
  }
  Shim& shim = it->second;
  const bool may_grant = shim.records_watched && shim.same_policy;
  return SendAllowance(name, shim, may_grant ? generation : std::min(generation, shim.generation));
}

Status ShimLauncher::SendAllowance(const std::string& name, Shim& shim, uint64_t generation) {
  if (PidfdSendAllowance(shim.pidfd, generation) != 0 && errno != ESRCH) {
    const int error = errno;
    shim.allowance_unsure = true;
    return ErrnoError(error, "send the respawn allowance " + std::to_string(generation) +
                                 " to the shim of " + name);
  }
  shim.allowance_unsure = false;
  return OkStatus();
}

}  // namespace rebound::supervise
