#include "supervise/supervisor.h"

#include <algorithm>
#include <array>

#include "base/duration.h"
#include "supervise/supervisor_service.h"

namespace rebound::supervise {
namespace {

// "a, b, c".
std::string JoinedNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  return joined;
}

}  // namespace

std::string_view ServiceStateName(ServiceState state) {
  static constexpr std::array<std::string_view, 6> kNames = {"stopped",  "running", "backoff",
                                                             "stopping", "exited",  "fatal"};
  return kNames[static_cast<size_t>(state)];
}

Supervisor::Supervisor(std::vector<ServiceSpec> specs, ProcessLauncher& launcher,
                       Scheduler& scheduler, const Clock& clock, Random& random, EventSink& events)
    : launcher_(launcher), scheduler_(scheduler), clock_(clock), random_(random), events_(events) {
  for (ServiceSpec& spec : specs) {
    std::vector<std::string> depends_on;
    for (const Dependency& dependency : spec.depends_on) {
      depends_on.push_back(dependency.name);
    }
    (void)graph_.AddService(spec.name, depends_on);  // names are unique (REQUIRES)
    services_.push_back(NewService(std::move(spec)));
  }
}

Supervisor::~Supervisor() {
  for (auto& service : services_) {
    CancelTimers(*service);
  }
}

Supervisor::Service* Supervisor::Find(const std::string& name) {
  for (auto& service : services_) {
    if (service->spec.name == name && !service->removed) {
      return service.get();
    }
  }
  return nullptr;
}

const Supervisor::Service* Supervisor::Find(const std::string& name) const {
  return const_cast<Supervisor*>(this)->Find(name);
}

void Supervisor::Emit(const std::string& kind, const Service& service, const std::string& message,
                      nlohmann::json data) {
  data["message"] = message;
  data["state"] = ServiceStateName(service.state);
  events_.Emit(kind, service.spec.name, data);
}

bool Supervisor::DependencyMet(const Dependency& dependency) const {
  const Service* other = Find(dependency.name);
  if (other == nullptr || other->state != ServiceState::kRunning) {
    return false;
  }
  return dependency.condition == DependencyCondition::kStarted || !gate_.is_healthy ||
         gate_.is_healthy(dependency.name);
}

std::vector<std::string> Supervisor::UnmetDependencies(const Service& service,
                                                       bool warn_optional) {
  std::vector<std::string> unmet;
  for (const Dependency& dependency : service.spec.depends_on) {
    if (DependencyMet(dependency)) {
      continue;
    }
    const std::string what =
        dependency.name + " (" + std::string(DependencyConditionName(dependency.condition)) + ")";
    if (dependency.required) {
      unmet.push_back(what);
    } else if (warn_optional) {
      Emit("optional_dependency_unmet", service,
           "starting without optional dependency " + what + ", which is not met");
    }
  }
  return unmet;
}

std::vector<Supervisor::Service*> Supervisor::Dependents(const Service& service) {
  std::vector<Service*> dependents;
  for (const std::string& name : graph_.Dependents(service.spec.name).value_or({})) {
    dependents.push_back(Find(name));
  }
  return dependents;
}

ExitCallback Supervisor::ExitHandler(Service& service) {
  const uint64_t generation = service.generation;
  return [this, &service, generation](const ExitInfo& exit) {
    if (service.generation == generation) {
      OnExit(service, exit);
    }
  };
}

void Supervisor::AdoptAll() {
  for (auto& service : services_) {
    ++service->generation;
    auto adoption = launcher_.Adopt(service->spec, ExitHandler(*service));
    if (!adoption.ok()) {
      // An instance may still run unwatched: starting another could duplicate it.
      service->state = ServiceState::kFatal;
      service->message = "could not re-adopt (" + adoption.error().message() +
                         "); check for a leftover instance, then start it by hand";
      Emit("adopt_failed", *service, service->message);
      continue;
    }
    switch (adoption->outcome) {
      case AdoptOutcome::kNothingFound:
        break;
      case AdoptOutcome::kRunning:
        service->process = adoption->process;
        service->process_generation = adoption->process.generation;
        service->allowance.reset();  // unknown: an earlier daemon may have granted some
        WatchRespawns(*service);
        service->state = ServiceState::kRunning;
        service->ever_ran = true;
        service->wanted = true;
        service->running_since = clock_.MonotonicNow();
        Emit("adopted", *service,
             "re-adopted running instance, pid " +
                 std::to_string(adoption->process.child_pid.value_or(0)),
             {{"pid", adoption->process.child_pid.value_or(0)},
              {"generation", adoption->process.generation}});
        break;
      case AdoptOutcome::kExitedMeanwhile:
        service->wanted = true;
        service->state = ServiceState::kRunning;  // it was: now handle its exit
        Emit("exited", *service, adoption->exit.description,
             {{"exit_code", adoption->exit.exit_code ? nlohmann::json(*adoption->exit.exit_code)
                                                     : nlohmann::json(nullptr)},
              {"signal", adoption->exit.signal ? nlohmann::json(*adoption->exit.signal)
                                               : nlohmann::json(nullptr)}});
        HandleUnexpectedExit(*service, adoption->exit);
        break;
    }
  }
  UpdateAllowances();
}

// Services that adoption already decided about (running, restarting, exited for good, fatal)
// keep that decision.
void Supervisor::StartAll() {
  for (auto& service : services_) {
    if (service->state == ServiceState::kStopped && !service->stopped_by_hand) {
      service->wanted = true;
    } else if (service->stopped_by_hand && service->state == ServiceState::kStopped) {
      service->message = "stopped by hand; start it with `rebound start " + service->spec.name + "`";
    }
  }
  StartWaiting();
}

void Supervisor::Preset(const std::string& name, bool stopped_by_hand, int64_t restarts) {
  if (Service* service = Find(name)) {
    service->stopped_by_hand = stopped_by_hand;
    service->restarts = restarts;
  }
}

void Supervisor::StartWaiting() {
  if (shutdown_done_) {
    return;
  }
  for (auto& service : services_) {
    const bool idle =
        service->state == ServiceState::kStopped || service->state == ServiceState::kExited;
    if (!service->wanted || !idle) {
      continue;
    }
    const std::vector<std::string> unmet = UnmetDependencies(*service, false);
    if (unmet.empty()) {
      (void)UnmetDependencies(*service, true);  // warn about optional ones once, at launch
      Launch(*service);
    } else {
      Wait(*service, unmet);
    }
  }
}

void Supervisor::Wait(Service& service, const std::vector<std::string>& unmet) {
  service.message = "waiting for " + JoinedNames(unmet);
  if (service.waiting_since) {
    return;
  }
  service.waiting_since = clock_.MonotonicNow();
  Emit("waiting", service, service.message + " (up to " + FormatDuration(gate_.startup_timeout) +
                               ")");
  service.gate_timer = scheduler_.ScheduleAt(clock_.MonotonicNow() + gate_.check_interval,
                                             [this, &service] { CheckWaiting(service); });
}

// The start gate's periodic check: report the wait, or give up once the timeout has passed.
void Supervisor::CheckWaiting(Service& service) {
  service.gate_timer.reset();
  const bool idle =
      service.state == ServiceState::kStopped || service.state == ServiceState::kExited;
  if (!service.waiting_since || !service.wanted || !idle || shutdown_done_) {
    service.waiting_since.reset();
    return;
  }
  const std::vector<std::string> unmet = UnmetDependencies(service, false);
  const Duration waited = clock_.MonotonicNow() - *service.waiting_since;
  if (unmet.empty()) {
    StartWaiting();
    return;
  }
  if (waited >= gate_.startup_timeout && !service.ever_ran) {
    service.waiting_since.reset();
    service.wanted = false;
    service.state = ServiceState::kFatal;
    service.message = "dependencies not met within " + FormatDuration(gate_.startup_timeout) +
                      ": " + JoinedNames(unmet) + "; start it by hand once they are";
    Emit("dependency_timeout", service, service.message);
    return;
  }
  const std::string waited_text =
      FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(waited));
  Emit("waiting", service,
       service.message + " (" +
           (service.ever_ran ? waited_text
                             : waited_text + " of " + FormatDuration(gate_.startup_timeout)) +
           ")");
  // After the first start there is no deadline: it waits (and says so) while what it needs
  // is down, restarting or recovering.
  const Duration next = service.ever_ran
                            ? gate_.check_interval
                            : std::min(gate_.check_interval, gate_.startup_timeout - waited);
  service.gate_timer =
      scheduler_.ScheduleAt(clock_.MonotonicNow() + next, [this, &service] { CheckWaiting(service); });
}

void Supervisor::OnHealthChanged(const std::string& name) {
  (void)name;  // any waiting service may depend on it; the check is cheap
  StartWaiting();
  UpdateAllowances();  // and a running one may lose (or regain) its immediate restarts
}

void Supervisor::Launch(Service& service) {
  service.waiting_since.reset();
  if (service.gate_timer) {
    scheduler_.Cancel(*service.gate_timer);
    service.gate_timer.reset();
  }
  ++service.generation;
  service.running_since = clock_.MonotonicNow();  // a failed launch is an instant crash
  Emit("starting", service, "starting " + service.spec.command.front());
  auto process = launcher_.Launch(service.spec, ExitHandler(service));
  if (!process.ok()) {
    Emit("launch_failed", service, process.error().ToString());
    service.state = ServiceState::kRunning;  // count it like a crash at start
    HandleUnexpectedExit(
        service, ExitInfo{.ended = clock_.WallNow(), .description = process.error().message()});
    return;
  }
  service.process = *process;
  service.process_generation = process->generation;
  service.allowance = process->generation;  // a new process starts with none
  WatchRespawns(service);
  service.state = ServiceState::kRunning;
  service.ever_ran = true;
  service.running_since = clock_.MonotonicNow();
  service.message.clear();
  const std::optional<int> pid = process->child_pid;
  Emit("started", service,
       pid ? "running, pid " + std::to_string(*pid)
           : "running under shim pid " + std::to_string(process->shim_pid),
       {{"pid", pid ? nlohmann::json(*pid) : nlohmann::json(nullptr)},
        {"shim_pid", process->shim_pid}});
  StartWaiting();  // dependents may start now
  UpdateAllowances();
}

void Supervisor::OnExit(Service& service, const ExitInfo& exit) {
  HandleExit(service, exit);
  // Services that depend on this one lose their allowance while it is down.
  UpdateAllowances();
}

void Supervisor::HandleExit(Service& service, const ExitInfo& exit) {
  ++service.generation;  // the process is gone: its timers and callbacks are stale
  service.process.reset();
  service.allowance.reset();
  service.last_exit = exit;
  if (service.kill_timer) {
    scheduler_.Cancel(*service.kill_timer);
    service.kill_timer.reset();
  }
  if (service.stop_requested) {
    service.stop_requested = false;
    service.state = ServiceState::kStopped;
    Emit("stopped", service, exit.description);
    if (shutdown_done_) {
      ContinueShutdown();
      return;
    }
    StartWaiting();  // a restart or a cascade asked for this stop
    return;
  }
  if (!service.wanted) {
    // Exited on its own while stopping everything, or after a stop that raced it.
    service.state = ServiceState::kExited;
    Emit("exited", service, exit.description);
    if (shutdown_done_) {
      ContinueShutdown();
    }
    return;
  }
  Emit("exited", service, exit.description,
       {{"exit_code", exit.exit_code ? nlohmann::json(*exit.exit_code) : nlohmann::json(nullptr)},
        {"signal", exit.signal ? nlohmann::json(*exit.signal) : nlohmann::json(nullptr)}});
  HandleUnexpectedExit(service, exit);
}

bool Supervisor::WantsRestart(const Service& service, const ExitInfo& exit) const {
  switch (service.spec.restart) {
    case RestartPolicy::kAlways:
      return true;
    case RestartPolicy::kOnFailure:
      return !exit.IsSuccess();
    case RestartPolicy::kNever:
      return false;
  }
  return false;
}

void Supervisor::HandleUnexpectedExit(Service& service, const ExitInfo& exit) {
  service.last_exit = exit;
  service.process.reset();
  if (!WantsRestart(service, exit)) {
    service.state = ServiceState::kExited;
    service.wanted = false;
    service.message = exit.description + "; restart policy " +
                      std::string(RestartPolicyName(service.spec.restart)) + ": not restarting";
    return;
  }
  if (IntensityExceeded(service)) {
    service.state = ServiceState::kFatal;
    service.wanted = false;
    service.message = "too many restarts (" + std::to_string(service.spec.intensity.max_restarts) +
                      " within " + FormatDuration(service.spec.intensity.within) +
                      "); start it again by hand once fixed";
    Emit("fatal", service, service.message);
    return;
  }
  Cascade(service);
  ScheduleRestart(service);
}

int Supervisor::RecentRestarts(Service& service) {
  const MonoTime now = clock_.MonotonicNow();
  while (!service.recent_restarts.empty() &&
         now - service.recent_restarts.front() >= service.spec.intensity.within) {
    service.recent_restarts.pop_front();
  }
  return static_cast<int>(service.recent_restarts.size());
}

bool Supervisor::IntensityExceeded(Service& service) {
  return RecentRestarts(service) >= service.spec.intensity.max_restarts;
}

Duration Supervisor::NextRestartDelay(Service& service) {
  if (clock_.MonotonicNow() - service.running_since >= kStableRun) {
    service.backoff.Reset();  // it ran long enough: this failure starts a new series
  }
  return service.backoff.NextDelay();
}

void Supervisor::ScheduleRestart(Service& service) {
  const MonoTime now = clock_.MonotonicNow();
  const Duration delay = NextRestartDelay(service);
  service.recent_restarts.push_back(now);
  service.state = ServiceState::kBackoff;
  service.message = "restarting in " +
                    FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(delay));
  Emit("restart_scheduled", service, service.message,
       {{"delay_ms", std::chrono::duration_cast<std::chrono::milliseconds>(delay).count()}});
  auto restart = [this, &service] {
    service.restart_timer.reset();
    ++service.restarts;
    service.state = ServiceState::kStopped;
    StartWaiting();
  };
  if (delay <= Duration::zero()) {
    restart();
    return;
  }
  service.restart_timer = scheduler_.ScheduleAt(now + delay, restart);
}

void Supervisor::Cascade(Service& failed) {
  std::vector<Service*> affected;
  if (failed.spec.cascade == supervise::Cascade::kRestForOne) {
    affected = Dependents(failed);
  } else if (failed.spec.cascade == supervise::Cascade::kOneForAll) {
    for (auto& other : services_) {
      if (other.get() != &failed) {
        affected.push_back(other.get());
      }
    }
  }
  for (Service* other : affected) {
    if (other->state == ServiceState::kRunning) {
      // Still wanted: it starts again once what it depends on runs again.
      RequestStop(*other, "cascade from " + failed.spec.name + " (" +
                              std::string(CascadeName(failed.spec.cascade)) + ")");
    }
  }
}

void Supervisor::RequestStop(Service& service, const std::string& reason) {
  service.stop_requested = true;
  service.state = ServiceState::kStopping;
  RevokeAllowance(service);  // before the signal: the process must not restart what we stop
  Emit("stopping", service, reason);
  Status signalled = launcher_.Signal(service.spec.name, service.spec.stop_signal);
  if (!signalled.ok()) {
    Emit("stop_signal_failed", service, signalled.error().ToString());
  }
  const uint64_t generation = service.generation;
  service.kill_timer = scheduler_.ScheduleAt(
      clock_.MonotonicNow() + service.spec.stop_timeout, [this, &service, generation] {
        service.kill_timer.reset();
        if (service.generation != generation || service.state != ServiceState::kStopping) {
          return;
        }
        Emit("stop_timeout", service,
             "did not stop within " + FormatDuration(service.spec.stop_timeout) +
                 "; sending SIGKILL to its process group");
        (void)launcher_.Kill(service.spec.name);
      });
}

void Supervisor::CancelTimers(Service& service) {
  if (service.restart_timer) {
    scheduler_.Cancel(*service.restart_timer);
    service.restart_timer.reset();
  }
  if (service.kill_timer) {
    scheduler_.Cancel(*service.kill_timer);
    service.kill_timer.reset();
  }
  if (service.gate_timer) {
    scheduler_.Cancel(*service.gate_timer);
    service.gate_timer.reset();
  }
  if (service.allowance_retry) {
    scheduler_.Cancel(*service.allowance_retry);
    service.allowance_retry.reset();
  }
  service.waiting_since.reset();
}

Status Supervisor::Start(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  service->wanted = true;
  service->stopped_by_hand = false;
  if (service->state == ServiceState::kFatal) {
    service->recent_restarts.clear();
    service->backoff.Reset();
    service->state = ServiceState::kStopped;
  }
  StartWaiting();
  UpdateAllowances();
  return OkStatus();
}

Status Supervisor::Stop(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  service->wanted = false;
  service->stopped_by_hand = true;
  if (service->gate_timer) {  // it was waiting for its dependencies: not any more
    scheduler_.Cancel(*service->gate_timer);
    service->gate_timer.reset();
    service->waiting_since.reset();
    service->message = "stopped by hand";
  }
  if (service->restart_timer) {
    CancelTimers(*service);
    service->state = ServiceState::kStopped;
    Emit("stopped", *service, "stopped during its restart backoff");
  }
  if (service->state == ServiceState::kRunning) {
    RequestStop(*service, "stop requested");
  }
  UpdateAllowances();  // its dependents' restarts now wait for it
  return OkStatus();
}

Status Supervisor::Restart(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  service->stopped_by_hand = false;
  if (service->state == ServiceState::kStopping) {
    service->wanted = true;  // starts again once stopped; its SIGKILL escalation stays armed
    return OkStatus();
  }
  if (service->state == ServiceState::kRunning) {
    service->wanted = true;
    RequestStop(*service, "restart requested");
    return OkStatus();
  }
  CancelTimers(*service);
  if (service->state != ServiceState::kStopping) {
    service->state = ServiceState::kStopped;
  }
  service->recent_restarts.clear();
  service->backoff.Reset();
  service->wanted = true;
  StartWaiting();
  UpdateAllowances();
  return OkStatus();
}

void Supervisor::StopAll(std::function<void()> done) {
  shutdown_done_ = std::move(done);
  for (auto& service : services_) {
    RevokeAllowance(*service);  // every one, before the first stop signal
    service->wanted = false;
    if (service->restart_timer) {
      CancelTimers(*service);
      service->state = ServiceState::kStopped;
    }
  }
  ContinueShutdown();
}

// Stops every running service none of whose dependents still runs; finishes when all are down.
void Supervisor::ContinueShutdown() {
  bool anything_left = false;
  for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
    Service& service = **it;
    if (service.state == ServiceState::kStopping) {
      anything_left = true;
    }
    if (service.state != ServiceState::kRunning) {
      continue;
    }
    anything_left = true;
    bool dependents_down = true;
    for (Service* dependent : Dependents(service)) {
      dependents_down = dependents_down && (dependent->state != ServiceState::kRunning &&
                                            dependent->state != ServiceState::kStopping);
    }
    if (dependents_down) {
      RequestStop(service, "daemon shutting down");
    }
  }
  if (!anything_left && shutdown_done_ && *shutdown_done_) {
    auto done = std::move(*shutdown_done_);
    *shutdown_done_ = nullptr;
    done();
  }
}

std::vector<ServiceView> Supervisor::Views() const {
  std::vector<ServiceView> views;
  for (const auto& service : services_) {
    if (!service->removed) {
      views.push_back(*View(service->spec.name));
    }
  }
  return views;
}

Result<ServiceView> Supervisor::View(const std::string& name) const {
  const Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  ServiceView view{service->spec.name, service->state,     std::nullopt,    service->restarts,
                   std::nullopt,       service->last_exit, service->message, service->wanted};
  if (service->process) {
    view.pid = service->process->child_pid ? service->process->child_pid
                                           : launcher_.ChildPid(service->spec.name);
    view.started = service->process->started;
  }
  return view;
}

}  // namespace rebound::supervise
