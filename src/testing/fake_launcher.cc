#include "testing/fake_launcher.h"

#include <algorithm>
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
  respawn_[spec.name] = RespawnState{.policy = spec.restart, .stop_signal = spec.stop_signal};
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
    respawn_[spec.name] = RespawnState{.policy = spec.restart,
                                       .stop_signal = spec.stop_signal,
                                       .generation = it->second.process.generation};
  }
  return it->second;
}

bool FakeLauncher::MayRespawn(const std::string& name, const ExitInfo& exit) const {
  auto state = respawn_.find(name);
  if (!respawn_enabled_ || state == respawn_.end() || state->second.stop_received ||
      state->second.generation >= state->second.allowance) {
    return false;
  }
  return state->second.policy == supervise::RestartPolicy::kAlways ||
         (state->second.policy == supervise::RestartPolicy::kOnFailure && !exit.IsSuccess());
}

// Like the shim: a new child at once, reported later (through the scheduler, as the reactor
// would see the rewritten NAME.child).
void FakeLauncher::Respawn(const std::string& name, ExitInfo exit) {
  RespawnState& state = respawn_[name];
  ++state.generation;
  exit.ended = clock_.WallNow();
  const int pid = next_pid_++;
  pids_[name] = pid;
  const bool report_pending = state.unreported.has_value();
  state.unreported = supervise::Respawn{.generation = state.generation,
                                        .child_pid = pid,
                                        .started = clock_.WallNow(),
                                        .previous_exit = exit};
  if (report_pending || !state.on_respawn) {
    return;
  }
  scheduler_.ScheduleAt(clock_.MonotonicNow(), [this, name] {
    RespawnState& current = respawn_[name];
    if (current.unreported && current.on_respawn) {
      const supervise::Respawn respawn = *current.unreported;
      current.unreported.reset();
      current.on_respawn(respawn);
    }
  });
}

void FakeLauncher::RespawnIgnoringAllowance(const std::string& name, int exit_code) {
  if (running_.contains(name)) {
    Respawn(name, ExitInfo{.exit_code = exit_code,
                           .description = "exited with code " + std::to_string(exit_code)});
  }
}

Status FakeLauncher::SetRespawnAllowance(const std::string& name, uint64_t generation) {
  auto it = respawn_.find(name);
  if (it != respawn_.end() && unwatched_.contains(name)) {
    generation = std::min(generation, it->second.generation);  // revokes only
  }
  allowances_sent_.emplace_back(name, generation);
  const bool fail = fail_allowances_[name];
  calls_.push_back("allow " + name + " " + std::to_string(generation) + (fail ? " failed" : ""));
  if (it == respawn_.end() || !running_.contains(name)) {
    return OkStatus();
  }
  it->second.allowance_unsure = fail;
  if (fail) {
    return ResourceError("send the respawn allowance to " + name + ": too many signals pending");
  }
  it->second.allowance = generation;
  return OkStatus();
}

Status FakeLauncher::WatchRespawns(const std::string& name, supervise::RespawnCallback on_respawn) {
  auto it = respawn_.find(name);
  if (it == respawn_.end()) {
    return OkStatus();
  }
  it->second.on_respawn = std::move(on_respawn);
  if (!unwatched_.contains(name)) {
    return OkStatus();
  }
  (void)SetRespawnAllowance(name, it->second.generation);
  return ResourceError("watch " + name + "'s restarts: too many inotify instances");
}

uint64_t FakeLauncher::allowance(const std::string& name) const {
  auto it = respawn_.find(name);
  return it == respawn_.end() ? 0 : it->second.allowance;
}

uint64_t FakeLauncher::generation(const std::string& name) const {
  auto it = respawn_.find(name);
  return it == respawn_.end() ? 0 : it->second.generation;
}

void FakeLauncher::DeliverExit(const std::string& name, ExitInfo exit) {
  auto it = running_.find(name);
  if (it == running_.end()) {
    return;
  }
  if (MayRespawn(name, exit)) {
    Respawn(name, std::move(exit));
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
  calls_.push_back("signal " + name + " " + std::to_string(signal));
  if (!running_.contains(name)) {
    return NotFoundError("no running process for " + name);
  }
  // A shim never restarts after forwarding its stop signal; SIGKILL is not forwarded (it
  // goes to the process group), so only a revoke keeps that exit from being restarted.
  if (auto it = respawn_.find(name);
      it != respawn_.end() && signal == it->second.stop_signal && signal != SIGKILL) {
    it->second.stop_received = true;
  }
  // A SIGKILL goes the way of Kill(): after a failed send it ends the shim too.
  if (auto it = respawn_.find(name);
      it != respawn_.end() && signal == SIGKILL && it->second.allowance_unsure) {
    it->second.stop_received = true;
  }
  if (!stubborn_.contains(name)) {
    ExitWithSignal(name, signal);
  }
  return OkStatus();
}

Status FakeLauncher::Kill(const std::string& name) {
  signals_.emplace_back(name, SIGKILL);
  calls_.push_back("signal " + name + " " + std::to_string(SIGKILL));
  if (auto it = respawn_.find(name); it != respawn_.end() && it->second.allowance_unsure) {
    it->second.stop_received = true;  // the shim itself is killed: nothing restarts
  }
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
