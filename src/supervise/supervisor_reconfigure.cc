// Supervisor::Reconfigure: applying a reloaded configuration to running services.

#include <algorithm>
#include <set>

#include "supervise/supervisor.h"
#include "supervise/supervisor_service.h"

namespace rebound::supervise {
std::unique_ptr<Supervisor::Service> Supervisor::NewService(ServiceSpec spec) {
  // Specs come from a validated config, so their backoff is valid.
  resilience::Backoff backoff = *resilience::Backoff::Create(spec.backoff, random_);
  return std::make_unique<Service>(Service{std::move(spec), std::move(backoff)});
}

Status Supervisor::Reconfigure(std::vector<ServiceSpec> specs) {
  ForgetRemoved();
  for (const auto& service : services_) {
    if (service->removed) {
      return ConflictError("service '" + service->spec.name +
                           "', removed by an earlier reload, is still stopping; reload again "
                           "once it has stopped");
    }
  }
  DependencyGraph graph;
  std::vector<std::unique_ptr<Service>> ordered;
  for (ServiceSpec& spec : specs) {
    std::vector<std::string> depends_on;
    for (const Dependency& dependency : spec.depends_on) {
      depends_on.push_back(dependency.name);
    }
    (void)graph.AddService(spec.name, depends_on);  // validated config (REQUIRES)
    auto existing = std::find_if(services_.begin(), services_.end(),
                                 [&](const auto& s) { return s->spec.name == spec.name; });
    if (existing == services_.end()) {
      ordered.push_back(NewService(std::move(spec)));
      ordered.back()->wanted = shutdown_done_ == std::nullopt;
      Emit("added", *ordered.back(), "added by a configuration reload");
      continue;
    }
    std::unique_ptr<Service> service = std::move(*existing);
    services_.erase(existing);
    if (!SameServiceSpec(service->spec, spec)) {
      ApplyChangedSpec(*service, std::move(spec));
    }
    ordered.push_back(std::move(service));
  }
  for (auto& service : services_) {  // what is left is not in the new configuration
    Remove(*service);
    ordered.push_back(std::move(service));
  }
  services_ = std::move(ordered);
  graph_ = std::move(graph);
  ForgetRemoved();
  StartWaiting();
  UpdateAllowances();
  return OkStatus();
}

void Supervisor::ApplyChangedSpec(Service& service, ServiceSpec spec) {
  Emit("changed", service, "configuration changed");
  const bool active =
      service.state == ServiceState::kRunning || service.state == ServiceState::kStopping;
  if (active) {
    // Stopped as configured before (its old stop signal); relaunched with the new spec.
    if (service.state == ServiceState::kRunning) {
      RequestStop(service, "restarting with its changed configuration");
    }
    service.wanted = true;
  } else if (service.wanted || service.state == ServiceState::kFatal) {
    CancelTimers(service);
    service.state = ServiceState::kStopped;
    service.wanted = true;
  }
  service.spec = std::move(spec);
  service.backoff = *resilience::Backoff::Create(service.spec.backoff, random_);
  service.recent_restarts.clear();
}

void Supervisor::Remove(Service& service) {
  service.wanted = false;
  if (service.restart_timer) {
    service.state = ServiceState::kStopped;
  }
  if (service.state != ServiceState::kRunning && service.state != ServiceState::kStopping) {
    CancelTimers(service);  // a backoff, or a wait for its dependencies: nothing left to run
  }
  if (service.state == ServiceState::kRunning) {
    RequestStop(service, "removed from the configuration");
  }
  Emit("removed", service, "removed by a configuration reload");
  service.removed = true;
}

// A removed service is forgotten once nothing of it runs: no process, no timer.
void Supervisor::ForgetRemoved() {
  std::erase_if(services_, [](const std::unique_ptr<Service>& service) {
    return service->removed && service->state != ServiceState::kRunning &&
           service->state != ServiceState::kStopping && !service->restart_timer &&
           !service->kill_timer && !service->gate_timer && !service->allowance_retry;
  });
}

}  // namespace rebound::supervise
