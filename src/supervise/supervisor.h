#pragma once

// Supervisor: keeps a set of services running. Starts them in dependency order, restarts
// them by policy with backoff, gives up (FATAL) after too many restarts, cascades restarts
// to dependents, stops them gracefully (stop signal, then SIGKILL after the timeout) in
// reverse dependency order, and re-adopts what an earlier daemon left running.
//
//   Supervisor supervisor(specs_in_start_order, launcher, scheduler, clock, random, events);
//   supervisor.AdoptAll();                 // after a daemon restart
//   supervisor.StartAll();
//   ... supervisor.Restart("api");
//   supervisor.StopAll([] { exit_loop(); });
//
// A state machine per service: stopped -> running -> (exited | backoff -> running | fatal),
// stopping -> stopped. Pure logic over ProcessLauncher and Scheduler; not thread-safe: every
// call, timer and exit callback runs on one thread (the engine's reactor). Every collaborator
// must outlive the supervisor.
//
// Immediate restarts (supervisor_respawn.cc): when a restart right now would be immediate and
// unconditional under the policy (restart always/on-failure, a zero backoff delay, restarts
// left in the intensity window, one_for_one, required dependencies met, not stopping, not
// shutting down), the supervisor lets a launcher that SupportsRespawn() restart the service
// by itself, up to that many times, and records each restart when it is reported, as if it
// had made it itself. Before it stops or restarts a service, it revokes that allowance.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/random.h"
#include "base/scheduler.h"
#include "resilience/backoff.h"
#include "supervise/dependency_graph.h"
#include "supervise/launcher.h"
#include "supervise/service_spec.h"

namespace rebound::supervise {

enum class ServiceState { kStopped, kRunning, kBackoff, kStopping, kExited, kFatal };
// "stopped", "running", "backoff", "stopping", "exited", "fatal".
std::string_view ServiceStateName(ServiceState state);

struct ServiceView {
  std::string name;
  ServiceState state;
  std::optional<int> pid;  // the service's own process
  int64_t restarts;
  std::optional<WallTime> started;
  std::optional<ExitInfo> last_exit;
  std::string message;
  bool wanted = false;  // should be running: not stopped by a person, not FATAL
};

// The dependency gate: when a service may start. A dependency with condition "healthy" is met
// when `is_healthy` says so (health/ knows; unset: when it runs). A service waits for its
// required dependencies, reporting every check_interval; at its first start it becomes FATAL
// when they are not met within startup_timeout (later, after a crash or a cascade, it waits
// as long as they are down). An optional dependency that is not met only warns.
struct StartGate {
  std::function<bool(const std::string&)> is_healthy = {};
  Duration startup_timeout = std::chrono::seconds(300);
  Duration check_interval = std::chrono::seconds(5);
};

class Supervisor {
 public:
  // REQUIRES: `specs` in a valid start order (dependencies first), names unique.
  Supervisor(std::vector<ServiceSpec> specs, ProcessLauncher& launcher, Scheduler& scheduler,
             const Clock& clock, Random& random, EventSink& events);
  ~Supervisor();

  // REQUIRES: before AdoptAll/StartAll.
  void SetStartGate(StartGate gate) { gate_ = std::move(gate); }
  // What an earlier daemon knew, before AdoptAll/StartAll: a service a person stopped stays
  // stopped (StartAll skips it), and its restart count carries on.
  void Preset(const std::string& name, bool stopped_by_hand, int64_t restarts);
  // The health of `name` changed: services waiting for it may start now.
  void OnHealthChanged(const std::string& name);

  void AdoptAll();
  void StartAll();
  // Stops everything in reverse dependency order; `done` runs once all have stopped.
  void StopAll(std::function<void()> done);

  Status Start(const std::string& name);
  Status Stop(const std::string& name);
  Status Restart(const std::string& name);

  // Applies a new set of specs (a config reload): services not in `specs` are stopped and
  // then forgotten, new ones start, changed ones restart with their new spec (a changed
  // service the operator had stopped stays stopped), identical ones are left alone.
  // REQUIRES: `specs` in a valid start order, names unique. Errors: conflict while a
  // service removed by an earlier call is still stopping (nothing changes).
  Status Reconfigure(std::vector<ServiceSpec> specs);

  std::vector<ServiceView> Views() const;
  Result<ServiceView> View(const std::string& name) const;

  // How long a service must stay up for its backoff to start over.
  static constexpr Duration kStableRun = std::chrono::seconds(10);

 private:
  struct Service;

  Service* Find(const std::string& name);
  const Service* Find(const std::string& name) const;
  bool DependencyMet(const Dependency& dependency) const;
  // The required dependencies not met, as "db (healthy)"; warns about optional ones.
  std::vector<std::string> UnmetDependencies(const Service& service, bool warn_optional);
  void Wait(Service& service, const std::vector<std::string>& unmet);
  void CheckWaiting(Service& service);
  std::vector<Service*> Dependents(const Service& service);
  void StartWaiting();
  void Launch(Service& service);
  void OnExit(Service& service, const ExitInfo& exit);
  void HandleExit(Service& service, const ExitInfo& exit);
  void HandleUnexpectedExit(Service& service, const ExitInfo& exit);
  bool WantsRestart(const Service& service, const ExitInfo& exit) const;
  bool IntensityExceeded(Service& service);
  void ScheduleRestart(Service& service);
  void Cascade(Service& failed);
  void RequestStop(Service& service, const std::string& reason);
  void CancelTimers(Service& service);
  void ContinueShutdown();
  // The delay before the next restart, counting it in the backoff series: after a run of
  // kStableRun or more the series starts over.
  Duration NextRestartDelay(Service& service);
  // Restarts within the intensity window, from now (older ones dropped).
  int RecentRestarts(Service& service);
  // Respawn allowances (supervisor_respawn.cc).
  int ImmediateRestartsAllowed(Service& service);
  void UpdateAllowances();
  void UpdateAllowance(Service& service);
  void RevokeAllowance(Service& service);
  void RetryAllowanceSoon(Service& service);
  void WatchRespawns(Service& service);
  void OnRespawned(Service& service, const Respawn& respawn);
  void Emit(const std::string& kind, const Service& service, const std::string& message,
            nlohmann::json data = nlohmann::json::object());
  ExitCallback ExitHandler(Service& service);
  // Reconfigure's steps (supervisor_reconfigure.cc).
  std::unique_ptr<Service> NewService(ServiceSpec spec);
  void ApplyChangedSpec(Service& service, ServiceSpec spec);
  void Remove(Service& service);
  void ForgetRemoved();

  ProcessLauncher& launcher_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Random& random_;
  EventSink& events_;
  std::vector<std::unique_ptr<Service>> services_;  // in start order
  DependencyGraph graph_;
  std::optional<std::function<void()>> shutdown_done_;
  StartGate gate_;
  bool respawn_watch_warned_ = false;  // the "respawn_unwatched" event is emitted once
};

}  // namespace rebound::supervise
