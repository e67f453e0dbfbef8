#include "testing/fake_launcher.h"

#include <csignal>

namespace rebound::testing {

using supervise::ExitInfo;

Result<supervise::LaunchedProcess> FakeLauncher::Launch(const supervise::ServiceSpec& spec,
                                                        supervise::ExitCallback on_exit) {
  ++launch_counts_[spec.name];
  launch_order_.push_back(spec.name);
  if (auto it = launch_errors_.find(spec.name); it != launch_errors_.end()) {
    return it->second;
  }
  const int pid = next_pid_++;
  running_[spec.name] = std::move(on_exit);
  pids_[spec.name] = pid;
  return supervise::LaunchedProcess{
      .shim_pid = pid + 100000, .child_pid = pid, .started = clock_.WallNow()};
}

Result<supervise::Adoption> FakeLauncher::Adopt(const supervise::ServiceSpec& spec,
                                                supervise::ExitCallback on_exit) {
  if (auto error = adopt_errors_.find(spec.name); error != adopt_errors_.end()) {
    return error->second;
  }
  auto it = adoptions_.find(spec.name);
  if (it == adoptions_.end()) {
    return supervise::Adoption{};
  }
  if (it->second.outcome == supervise::AdoptOutcome::kRunning) {
    running_[spec.name] = std::move(on_exit);
    pids_[spec.name] = it->second.process.child_pid.value_or(0);
  }
  return it->second;
}

void FakeLauncher::DeliverExit(const std::string& name, ExitInfo exit) {
  auto it = running_.find(name);
  if (it == running_.end()) {
    return;
  }
  supervise::ExitCallback callback = std::move(it->second);
  running_.erase(it);
  exit.ended = clock_.WallNow();
  // Like the reactor: the notification arrives later, never inside the call that caused it.
  scheduler_.ScheduleAt(clock_.MonotonicNow(), [callback, exit] { callback(exit); });
}

Status FakeLauncher::Signal(const std::string& name, int signal) {
  signals_.emplace_back(name, signal);
  if (!running_.contains(name)) {
    return NotFoundError("no running process for " + name);
  }
  if (!stubborn_.contains(name)) {
    ExitWithSignal(name, signal);
  }
  return OkStatus();
}

Status FakeLauncher::Kill(const std::string& name) {
  signals_.emplace_back(name, SIGKILL);
  ExitWithSignal(name, SIGKILL);
  return OkStatus();
}

void FakeLauncher::Crash(const std::string& name, int exit_code) {
  DeliverExit(name, ExitInfo{.exit_code = exit_code,
                             .description = "exited with code " + std::to_string(exit_code)});
}

void FakeLauncher::ExitWithSignal(const std::string& name, int signal) {
  DeliverExit(name, ExitInfo{.signal = signal,
                             .description = "killed by signal " + std::to_string(signal)});
}

void FakeLauncher::DiscardRecords(const std::string& name) {
  discards_.push_back(name);
  if (on_discard_) {
    on_discard_(name);
  }
}

std::optional<int> FakeLauncher::ChildPid(const std::string& name) {
  if (!running_.contains(name)) {
    return std::nullopt;
  }
  return pid(name);
}

int FakeLauncher::launches(const std::string& name) const {
  auto it = launch_counts_.find(name);
  return it == launch_counts_.end() ? 0 : it->second;
}

int FakeLauncher::pid(const std::string& name) const {
  auto it = pids_.find(name);
  return it == pids_.end() ? 0 : it->second;
}

}  // namespace rebound::testing
