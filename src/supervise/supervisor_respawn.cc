// Supervisor's immediate restarts: the allowance a process gets to restart its service by
// itself (ProcessLauncher::SetRespawnAllowance), and the bookkeeping of restarts it made.
//
// The allowance is G = the process's known restart generation + N, where N is how many
// restarts in a row the supervisor would itself make at once and unconditionally. Anything it
// would decide differently (a delay, a cascade, a wait for dependencies, FATAL) keeps N at 0,
// so the process then ends as before and its exit comes through OnExit.

#include <algorithm>

#include "supervise/supervisor.h"
#include "supervise/supervisor_service.h"

namespace rebound::supervise {
namespace {

// More than any intensity a person would configure; keeps G within a signal's 32-bit value.
constexpr int kMaxAllowedRestarts = 1000;
constexpr Duration kAllowanceRetry = std::chrono::milliseconds(100);

nlohmann::json NullableCode(const std::optional<int>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

int Supervisor::ImmediateRestartsAllowed(Service& service) {
  const bool running = service.state == ServiceState::kRunning && service.process &&
                       service.wanted && !service.stop_requested && !service.removed;
  if (!launcher_.SupportsRespawn() || shutdown_done_ || !running ||
      service.spec.restart == RestartPolicy::kNever ||
      service.spec.cascade != supervise::Cascade::kOneForOne) {
    return 0;  // a cascade restarts others in order: only this supervisor can do that
  }
  for (const Dependency& dependency : service.spec.depends_on) {
    if (dependency.required && !DependencyMet(dependency)) {
      return 0;  // a restart now would wait for it
    }
  }
  // FATAL must come exactly when it would: once these are spent, the exit comes to OnExit.
  const int restarts_left =
      std::max(0, service.spec.intensity.max_restarts - RecentRestarts(service));
  const int limit = std::min(restarts_left, kMaxAllowedRestarts);
  // Zero delays whether or not the run counts as stable by the time it ends (NextRestartDelay).
  return std::min(service.backoff.ZeroDelaysAhead(limit),
                  service.backoff.ZeroDelaysAhead(limit, /*from_reset=*/true));
}

void Supervisor::UpdateAllowances() {
  for (auto& service : services_) {
    UpdateAllowance(*service);
  }
}

void Supervisor::UpdateAllowance(Service& service) {
  if (!service.process || !launcher_.SupportsRespawn()) {
    return;
  }
  const uint64_t allowance = service.process_generation + ImmediateRestartsAllowed(service);
  if (allowance != service.allowance) {
    const bool sent = launcher_.SetRespawnAllowance(service.spec.name, allowance).ok();
    service.allowance = sent ? std::optional<uint64_t>(allowance) : std::nullopt;
    if (!sent) {
      RetryAllowanceSoon(service);
    }
  }
}

// Unknown if it did not arrive (a full signal queue, say): sent again shortly, not only at the
// next evaluation, which may be long in coming while the process holds a higher allowance
// (a dependency down, and the service free to restart itself meanwhile).
void Supervisor::RetryAllowanceSoon(Service& service) {
  if (service.allowance_retry) {
    return;
  }
  service.allowance_retry =
      scheduler_.ScheduleAt(clock_.MonotonicNow() + kAllowanceRetry, [this, &service] {
        service.allowance_retry.reset();
        UpdateAllowance(service);
      });
}

void Supervisor::RevokeAllowance(Service& service) {
  if (!launcher_.SupportsRespawn() || !service.process) {
    return;
  }
  if (service.allowance && *service.allowance <= service.process_generation) {
    return;
  }
  Status revoked = launcher_.SetRespawnAllowance(service.spec.name, service.process_generation);
  if (revoked.ok()) {
    service.allowance = service.process_generation;
    return;
  }
  // It may still restart what we stop: the launcher then kills the whole process on a
  // Kill(), and a forwarded stop signal ends its restarts anyway (docs/shim.md).
  service.allowance.reset();
  RetryAllowanceSoon(service);
  Emit("respawn_revoke_failed", service,
       revoked.error().message() + "; a SIGKILL now ends its shim too, not only the service");
}

void Supervisor::WatchRespawns(Service& service) {
  const uint64_t generation = service.generation;
  Status watched = launcher_.WatchRespawns(service.spec.name,
                                           [this, &service, generation](const Respawn& respawn) {
                                             if (service.generation == generation) {
                                               OnRespawned(service, respawn);
                                             }
                                           });
  // Degraded, not broken: its restarts go through this supervisor, as without respawn. Said
  // once: a watch that cannot be set up (no inotify instance left) fails for every service.
  if (!watched.ok() && !respawn_watch_warned_) {
    respawn_watch_warned_ = true;
    Emit("respawn_unwatched", service,
         watched.error().message() + "; such services are restarted by the daemon instead");
  }
}

// Records what a restart of our own records: the exit, a restart counted for intensity and
// backoff, the new process. A restart that raced a stop (the revoke arrived too late) counts
// in `restarts` (a new process did start) but not toward the intensity window or the backoff:
// without the shim's restart that exit would have ended in `stopped`, counted toward neither.
// The stop goes on, and reaches the new process.
void Supervisor::OnRespawned(Service& service, const Respawn& respawn) {
  if (!service.process || respawn.generation <= service.process_generation) {
    return;
  }
  const uint64_t count = respawn.generation - service.process_generation;
  service.process_generation = respawn.generation;
  service.process->child_pid = respawn.child_pid;
  service.process->started = respawn.started;
  service.last_exit = respawn.previous_exit;
  Emit("exited", service, respawn.previous_exit.description + "; restarted by its shim",
       {{"exit_code", NullableCode(respawn.previous_exit.exit_code)},
        {"signal", NullableCode(respawn.previous_exit.signal)},
        {"restarted_by", "shim"},
        {"restarts", count}});
  for (uint64_t i = 0; i < count; ++i) {
    if (!service.stop_requested) {
      (void)NextRestartDelay(service);  // zero: the allowance covered only zero delays
      service.recent_restarts.push_back(clock_.MonotonicNow());
    }
    ++service.restarts;
  }
  service.running_since = clock_.MonotonicNow();
  if (service.state == ServiceState::kRunning) {
    Emit("started", service, "running, pid " + std::to_string(respawn.child_pid),
         {{"pid", respawn.child_pid},
          {"shim_pid", service.process->shim_pid},
          {"restarted_by", "shim"}});
  }
  UpdateAllowances();
}

}  // namespace rebound::supervise
