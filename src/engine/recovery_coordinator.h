#pragma once

// RecoveryCoordinator: runs each service's recovery when it fails (a breaker opened, a probe
// crossed its failure threshold) or when a person asks. One AutoRecoveryController per
// service decides when (cooldown, attempts, backoff); this class runs an attempt:
//
//   1. wait until every dependency is healthy (cascading recovery: dependencies first);
//   2. run the configured actions in order: reset_breaker, restart, exec, restore_module;
//   3. verify: the service must be healthy again (after a restart: healthy since it started
//      anew) within the verify timeout; then the attempt succeeded, else it failed.
//
// An exhausted cycle leaves the service needing manual intervention: an event, and a JSON
// notification through the host (to the configured webhook).
//
//   RecoveryCoordinator recovery(host, scheduler, clock);
//   recovery.AddService("model_server", spec, /*verify_timeout=*/10s);
//   recovery.OnFailureDetected("model_server", "circuit breaker opened");
//   ... host reports: recovery.OnServiceStarted(name); recovery.OnHealthChanged(name);
//
// Pure logic over RecoveryHost, Scheduler and Clock. Not thread-safe (the reactor owns it).

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/scheduler.h"
#include "engine/reliability_config.h"
#include "resilience/auto_recovery.h"

namespace rebound::engine {

// What recovery acts on and asks about; the daemon implements it, tests fake it.
class RecoveryHost {
 public:
  virtual ~RecoveryHost() = default;
  // Healthy now: the probe's verdict, or running when the service has no probe.
  virtual bool IsHealthy(const std::string& name) const = 0;
  // The supervisor wants it running: not stopped by a person, not FATAL. Recovery leaves
  // other services alone (restarting them would overrule that decision).
  virtual bool IsWanted(const std::string& name) const = 0;
  virtual std::vector<std::string> DependenciesOf(const std::string& name) const = 0;
  virtual void ResetBreaker(const std::string& name) = 0;
  // A graceful restart (stop signal, stop timeout, then start).
  virtual void RestartService(const std::string& name) = 0;
  // Runs `command`; `done` (on the coordinator's thread) gets an Error if it failed.
  virtual void RunCommand(const std::string& name, const std::vector<std::string>& command,
                          Duration timeout, std::function<void(Status)> done) = 0;
  // Restores `modules` from the newest snapshot taken at or before `failed_at` (store and
  // restore targets), in order, stopping at the first failure; `done` (on the coordinator's
  // thread) gets its Error. Snapshots taken since the failure (the capture before recovery,
  // on-event captures) hold the failed state, so they are passed over.
  virtual void RestoreModules(const std::string& name, const std::vector<std::string>& modules,
                              WallTime failed_at, std::function<void(Status)> done) = 0;
  // Tells a person (webhook); `payload` is the JSON to POST. Must not block.
  virtual void NotifyOperator(const std::string& name, const std::string& url,
                              const nlohmann::json& payload) = 0;
  // Log line and journal event; data["message"] is the human sentence.
  virtual void Emit(const std::string& kind, const std::string& name,
                    const nlohmann::json& data) = 0;
};

class RecoveryCoordinator {
 public:
  RecoveryCoordinator(RecoveryHost& host, Scheduler& scheduler, const Clock& clock);
  ~RecoveryCoordinator();

  // REQUIRES: a name not added before. A validation Error if the spec is not valid.
  Status AddService(const std::string& name, const RecoverySpec& spec, Duration verify_timeout);
  void RemoveService(const std::string& name);

  // Automatic trigger; ignored when the service's recovery has auto = false.
  void OnFailureDetected(const std::string& name, const std::string& reason);
  // POST /reliability/auto-recovery/NAME/trigger: skips the cooldown. True if an attempt
  // started, false if it joined the one in progress. not_found if unknown; conflict if the
  // service is stopped by hand or FATAL (start it instead).
  Result<bool> TriggerManually(const std::string& name);
  // Back to idle: attempts, cooldown and a running attempt are forgotten. not_found if unknown.
  Status Reset(const std::string& name);

  // The host reports: the service (re)started; its health (or a dependency's) changed.
  void OnServiceStarted(const std::string& name);
  void OnHealthChanged(const std::string& name);

  // "idle", "recovering", "waiting_to_retry", "needs_manual_intervention"; empty if unknown.
  std::string PhaseOf(const std::string& name) const;
  // The auto_recovery part of GET /reliability for one service.
  nlohmann::json StatusJson(const std::string& name) const;
  // Mean time from failure detected to recovered, over successful cycles; nullopt if none.
  std::optional<Duration> MeanTimeToRecovery() const;

 private:
  struct Service;

  Service* Find(const std::string& name);
  const Service* Find(const std::string& name) const;
  void Apply(Service& service, const resilience::RecoveryDecision& decision,
             const std::string& reason);
  void StartAttempt(Service& service, int attempt);
  void RunActions(Service& service, size_t next_step);
  // What an asynchronous action calls when it finishes: the next action, or a failed attempt.
  std::function<void(Status)> ContinueAfter(Service& service, size_t step, std::string what);
  // The wall-clock time the failure this cycle answers was detected (now if none is noted).
  WallTime FailedAt(const Service& service) const;
  void Verify(Service& service);
  void CheckVerified(Service& service);
  void Finish(Service& service, bool success, const std::string& message);
  void Abandon(Service& service, const std::string& why);
  void SchedulePoll(Service& service, MonoTime at);
  std::vector<std::string> UnhealthyDependencies(const Service& service) const;
  void CancelTimers(Service& service);
  void Emit(const std::string& kind, const Service& service, const std::string& message,
            nlohmann::json data = nlohmann::json::object());

  RecoveryHost& host_;
  Scheduler& scheduler_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Service>> services_;
  Duration recovered_total_ = Duration::zero();
  int64_t recovered_cycles_ = 0;
};

}  // namespace rebound::engine
