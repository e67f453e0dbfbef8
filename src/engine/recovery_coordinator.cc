#include "engine/recovery_coordinator.h"

#include <algorithm>

#include "base/duration.h"

namespace rebound::engine {

using resilience::RecoveryAction;
using resilience::RecoveryDecision;
using resilience::RecoveryPhase;
using resilience::TriggerSource;

namespace {

enum class Stage { kNone, kWaitingForDependencies, kRunningActions, kVerifying };

}  // namespace

struct RecoveryCoordinator::Service {
  std::string name;
  RecoverySpec spec;
  Duration verify_timeout;
  resilience::AutoRecoveryController controller;
  Stage stage = Stage::kNone;
  int attempt = 0;
  bool manual = false;
  uint64_t run = 0;  // of the current attempt: callbacks of an older one are ignored
  bool awaiting_restart = false;
  std::optional<TimerId> poll_timer = {};
  std::optional<TimerId> verify_timer = {};
  std::optional<MonoTime> detected_at = {};  // the failure this cycle answers
  std::string reason = {};                   // what triggered the cycle
};

RecoveryCoordinator::RecoveryCoordinator(RecoveryHost& host, Scheduler& scheduler,
                                         const Clock& clock)
    : host_(host), scheduler_(scheduler), clock_(clock) {}

RecoveryCoordinator::~RecoveryCoordinator() {
  for (auto& [name, service] : services_) {
    CancelTimers(*service);
  }
}

Status RecoveryCoordinator::AddService(const std::string& name, const RecoverySpec& spec,
                                       Duration verify_timeout) {
  auto controller = resilience::AutoRecoveryController::Create(spec.controller, clock_);
  if (!controller.ok()) {
    return controller.error().WithContext("services." + name + ".recovery");
  }
  services_[name] =
      std::make_unique<Service>(Service{name, spec, verify_timeout, std::move(*controller)});
  return OkStatus();
}

void RecoveryCoordinator::RemoveService(const std::string& name) {
  if (Service* service = Find(name)) {
    CancelTimers(*service);
    services_.erase(name);
  }
}

RecoveryCoordinator::Service* RecoveryCoordinator::Find(const std::string& name) {
  const auto found = services_.find(name);
  return found == services_.end() ? nullptr : found->second.get();
}

const RecoveryCoordinator::Service* RecoveryCoordinator::Find(const std::string& name) const {
  return const_cast<RecoveryCoordinator*>(this)->Find(name);
}

void RecoveryCoordinator::Emit(const std::string& kind, const Service& service,
                               const std::string& message, nlohmann::json data) {
  data["message"] = message;
  data["attempt"] = service.attempt;
  data["max_attempts"] = service.controller.max_attempts();
  host_.Emit(kind, service.name, data);
}

void RecoveryCoordinator::OnFailureDetected(const std::string& name, const std::string& reason) {
  Service* service = Find(name);
  if (service == nullptr || !service->spec.automatic || !host_.IsWanted(name)) {
    return;  // stopped by a person or FATAL: not recovery's to overrule
  }
  const RecoveryDecision decision = service->controller.Trigger(TriggerSource::kAutomatic);
  const bool begins = decision.action == RecoveryAction::kStartAttempt ||
                      decision.action == RecoveryAction::kScheduled;
  if (begins && !service->detected_at) {
    service->detected_at = clock_.MonotonicNow();
    service->reason = reason;
  }
  Apply(*service, decision, reason);
}

Result<bool> RecoveryCoordinator::TriggerManually(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  if (!host_.IsWanted(name)) {
    return ConflictError("service '" + name +
                         "' is stopped (by hand or after too many restarts); start it with "
                         "`rebound start " + name + "` instead");
  }
  const RecoveryDecision decision = service->controller.Trigger(TriggerSource::kManual);
  if (decision.action != RecoveryAction::kStartAttempt) {
    return false;  // joins the attempt in progress
  }
  service->detected_at = service->detected_at.value_or(clock_.MonotonicNow());
  service->reason = "manual trigger";
  service->manual = true;
  Apply(*service, decision, "manual trigger");
  return true;
}

Status RecoveryCoordinator::Reset(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  CancelTimers(*service);
  ++service->run;
  service->stage = Stage::kNone;
  service->awaiting_restart = false;
  service->manual = false;
  service->detected_at.reset();
  service->controller.Reset();
  Emit("recovery_reset", *service, "Recovery state of " + name + " reset");
  return OkStatus();
}

void RecoveryCoordinator::Apply(Service& service, const RecoveryDecision& decision,
                                const std::string& reason) {
  switch (decision.action) {
    case RecoveryAction::kStartAttempt:
      StartAttempt(service, decision.attempt);
      return;
    case RecoveryAction::kScheduled:
      Emit("recovery_deferred", service,
           "Recovery for " + service.name + " deferred by its cooldown: " + reason,
           {{"in_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                          decision.at - clock_.MonotonicNow())
                          .count()}});
      SchedulePoll(service, decision.at);
      return;
    case RecoveryAction::kNeedsManualIntervention:
    case RecoveryAction::kAlreadyRecovering:
    case RecoveryAction::kRecovered:
      return;  // the cycle in progress (or the person who must act) already knows
  }
}

void RecoveryCoordinator::StartAttempt(Service& service, int attempt) {
  ++service.run;
  service.attempt = attempt;
  if (!host_.IsWanted(service.name)) {  // a person stopped it since the cycle began
    Abandon(service, "it was stopped (by hand or after too many restarts)");
    return;
  }
  Emit("recovery_attempt", service,
       "Triggering recovery for: " + service.name + " (attempt " + std::to_string(attempt) + "/" +
           std::to_string(service.controller.max_attempts()) + ")",
       {{"reason", service.reason}, {"manual", service.manual}});
  if (!service.manual && host_.IsHealthy(service.name)) {
    Finish(service, true, "healthy again before the attempt ran; nothing to do");
    return;
  }
  const std::vector<std::string> waiting = UnhealthyDependencies(service);
  if (waiting.empty()) {
    RunActions(service, 0);
    return;
  }
  service.stage = Stage::kWaitingForDependencies;
  Emit("recovery_waiting", service,
       "Recovery for " + service.name + " waits for its dependencies to be healthy first: " +
           JoinNames(waiting));
  const uint64_t run = service.run;
  service.verify_timer = scheduler_.ScheduleAt(
      clock_.MonotonicNow() + service.verify_timeout, [this, &service, run] {
        service.verify_timer.reset();
        if (service.run == run && service.stage == Stage::kWaitingForDependencies) {
          Finish(service, false,
                 "its dependencies were not healthy within " +
                     FormatDuration(service.verify_timeout) + ": " +
                     JoinNames(UnhealthyDependencies(service)));
        }
      });
}

// Ends the cycle without an outcome: the controller goes back to idle.
void RecoveryCoordinator::Abandon(Service& service, const std::string& why) {
  CancelTimers(service);
  ++service.run;
  service.stage = Stage::kNone;
  service.awaiting_restart = false;
  service.manual = false;
  service.detected_at.reset();
  service.controller.Reset();
  Emit("recovery_abandoned", service, "Recovery for " + service.name + " abandoned: " + why);
}

std::vector<std::string> RecoveryCoordinator::UnhealthyDependencies(const Service& service) const {
  std::vector<std::string> unhealthy;
  for (const std::string& dependency : host_.DependenciesOf(service.name)) {
    if (!host_.IsHealthy(dependency)) {
      unhealthy.push_back(dependency);
    }
  }
  return unhealthy;
}

void RecoveryCoordinator::RunActions(Service& service, size_t next_step) {
  service.stage = Stage::kRunningActions;
  const auto& actions = service.spec.actions;
  for (size_t step = next_step; step < actions.size(); ++step) {
    switch (actions[step]) {
      case RecoveryStep::kResetBreaker:
        host_.ResetBreaker(service.name);
        break;
      case RecoveryStep::kRestart:
        service.awaiting_restart = true;
        host_.RestartService(service.name);
        break;
      case RecoveryStep::kExec: {
        // By name, not by reference: the service may be removed (a reload) meanwhile.
        const uint64_t run = service.run;
        host_.RunCommand(service.name, service.spec.exec, service.spec.exec_timeout,
                         [this, name = service.name, run, step](Status status) {
                           Service* current = Find(name);
                           if (current == nullptr || current->run != run) {
                             return;
                           }
                           if (!status.ok()) {
                             Finish(*current, false, "exec action: " + status.error().message());
                           } else {
                             RunActions(*current, step + 1);
                           }
                         });
        return;  // continues when the command finishes
      }
      case RecoveryStep::kRestoreModule:
        host_.RestoreModules(service.name, service.spec.restore_modules, FailedAt(service),
                             ContinueAfter(service, step, "restore_module action: "));
        return;  // continues when the modules are restored
    }
  }
  Verify(service);
}

WallTime RecoveryCoordinator::FailedAt(const Service& service) const {
  const MonoTime now = clock_.MonotonicNow();
  const Duration since = service.detected_at ? now - *service.detected_at : Duration::zero();
  return clock_.WallNow() - std::chrono::duration_cast<WallTime::duration>(since);
}

std::function<void(Status)> RecoveryCoordinator::ContinueAfter(Service& service, size_t step,
                                                               std::string what) {
  // By name, not by reference: the service may be removed (a reload) meanwhile.
  return [this, name = service.name, run = service.run, step, what](Status status) {
    Service* current = Find(name);
    if (current == nullptr || current->run != run) {
      return;
    }
    if (!status.ok()) {
      Finish(*current, false, what + status.error().message());
    } else {
      RunActions(*current, step + 1);
    }
  };
}

void RecoveryCoordinator::Verify(Service& service) {
  service.stage = Stage::kVerifying;
  const uint64_t run = service.run;
  service.verify_timer = scheduler_.ScheduleAt(
      clock_.MonotonicNow() + service.verify_timeout, [this, &service, run] {
        service.verify_timer.reset();
        if (service.run == run && service.stage == Stage::kVerifying) {
          Finish(service, false,
                 "not healthy within " + FormatDuration(service.verify_timeout) +
                     " after its recovery actions");
        }
      });
  CheckVerified(service);
}

void RecoveryCoordinator::CheckVerified(Service& service) {
  if (service.stage == Stage::kVerifying && !service.awaiting_restart &&
      host_.IsHealthy(service.name)) {
    Finish(service, true, "healthy again");
  }
}

void RecoveryCoordinator::OnServiceStarted(const std::string& name) {
  if (Service* service = Find(name); service != nullptr && service->awaiting_restart) {
    service->awaiting_restart = false;
    CheckVerified(*service);
  }
}

void RecoveryCoordinator::OnHealthChanged(const std::string& name) {
  for (auto& [other_name, service] : services_) {
    if (service->stage != Stage::kWaitingForDependencies) {
      continue;
    }
    if (!service->manual && host_.IsHealthy(other_name)) {
      Finish(*service, true, "healthy again while it waited for its dependencies");
    } else if (UnhealthyDependencies(*service).empty()) {
      CancelTimers(*service);
      RunActions(*service, 0);
    }
  }
  if (Service* service = Find(name)) {
    CheckVerified(*service);
  }
}

void RecoveryCoordinator::Finish(Service& service, bool success, const std::string& message) {
  CancelTimers(service);
  ++service.run;
  service.stage = Stage::kNone;
  service.awaiting_restart = false;
  const RecoveryDecision next = service.controller.RecordOutcome(success, message);
  if (next.action != RecoveryAction::kScheduled) {
    service.manual = false;  // the cycle is over; retries of a manual one stay manual
  }
  if (success) {
    if (service.detected_at) {
      recovered_total_ += clock_.MonotonicNow() - *service.detected_at;
      ++recovered_cycles_;
    }
    service.detected_at.reset();
    Emit("recovery_succeeded", service, "Recovery successful for: " + service.name,
         {{"detail", message}});
    return;
  }
  Emit("recovery_failed", service, "Recovery failed for: " + service.name + ": " + message);
  if (next.action == RecoveryAction::kScheduled) {
    const Duration delay = next.at - clock_.MonotonicNow();
    Emit("recovery_backoff", service, "Applying backoff delay: " + FormatDuration(delay),
         {{"delay_ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()}});
    SchedulePoll(service, next.at);
  } else if (next.action == RecoveryAction::kNeedsManualIntervention) {
    service.detected_at.reset();
    const std::string text = "Recovery for " + service.name + " gave up after " +
                             std::to_string(service.controller.max_attempts()) +
                             " attempts; it needs manual intervention (last error: " + message +
                             ")";
    Emit("needs_manual_intervention", service, text);
    if (!service.spec.notify_url.empty()) {
      host_.NotifyOperator(service.name, service.spec.notify_url,
                           {{"service", service.name},
                            {"event", "needs_manual_intervention"},
                            {"message", text},
                            {"attempts", service.controller.max_attempts()},
                            {"last_error", message},
                            {"reason", service.reason},
                            {"at_ms", ToUnixMillis(clock_.WallNow())}});
    }
  }
}

void RecoveryCoordinator::SchedulePoll(Service& service, MonoTime at) {
  if (service.poll_timer) {
    scheduler_.Cancel(*service.poll_timer);
  }
  service.poll_timer = scheduler_.ScheduleAt(at, [this, &service] {
    service.poll_timer.reset();
    if (auto decision = service.controller.Poll()) {
      Apply(service, *decision, service.reason);
    } else if (auto next = service.controller.NextWakeup()) {
      SchedulePoll(service, *next);
    }
  });
}

void RecoveryCoordinator::CancelTimers(Service& service) {
  for (std::optional<TimerId>* timer : {&service.poll_timer, &service.verify_timer}) {
    if (*timer) {
      scheduler_.Cancel(**timer);
      timer->reset();
    }
  }
}

std::string RecoveryCoordinator::PhaseOf(const std::string& name) const {
  const Service* service = Find(name);
  return service == nullptr
             ? ""
             : std::string(resilience::RecoveryPhaseName(service->controller.phase()));
}

nlohmann::json RecoveryCoordinator::StatusJson(const std::string& name) const {
  const Service* service = Find(name);
  if (service == nullptr) {
    return nullptr;
  }
  const auto& controller = service->controller;
  static constexpr const char* kStages[] = {"none", "waiting_for_dependencies",
                                            "running_actions", "verifying"};
  nlohmann::json history = nlohmann::json::array();
  for (const auto& record : controller.history()) {
    history.push_back({{"attempt", record.attempt},
                       {"manual", record.manual},
                       {"started_ms", ToUnixMillis(record.started)},
                       {"finished_ms", ToUnixMillis(record.finished)},
                       {"success", record.success},
                       {"message", record.message}});
  }
  nlohmann::json json = {{"phase", resilience::RecoveryPhaseName(controller.phase())},
                         {"stage", kStages[static_cast<size_t>(service->stage)]},
                         {"automatic", service->spec.automatic},
                         {"attempt", controller.attempt()},
                         {"max_attempts", controller.max_attempts()},
                         {"attempts_total", controller.attempts_total()},
                         {"successes_total", controller.successes_total()},
                         {"exhausted_total", controller.exhausted_total()},
                         {"cooldown_remaining_seconds", 0.0},
                         {"history", std::move(history)}};
  if (auto until = controller.cooldown_until(); until && *until > clock_.MonotonicNow()) {
    json["cooldown_remaining_seconds"] = ToSeconds(*until - clock_.MonotonicNow());
  }
  return json;
}

std::optional<Duration> RecoveryCoordinator::MeanTimeToRecovery() const {
  if (recovered_cycles_ == 0) {
    return std::nullopt;
  }
  return recovered_total_ / recovered_cycles_;
}

}  // namespace rebound::engine
