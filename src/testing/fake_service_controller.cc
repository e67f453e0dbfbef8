#include "testing/fake_service_controller.h"

namespace rebound::testing {
namespace {

Error UnknownService(const std::string& name) {
  return NotFoundError("no service named \"" + name + "\"");
}

}  // namespace

void FakeServiceController::AddService(engine::ServiceStatus status) {
  std::lock_guard lock(mutex_);
  ++version_;
  if (engine::ServiceStatus* existing = Find(status.name)) {
    *existing = std::move(status);
    return;
  }
  services_.push_back(std::move(status));
}

void FakeServiceController::FailNextCall(Error error) {
  std::lock_guard lock(mutex_);
  next_error_ = std::move(error);
}

void FakeServiceController::SetShuttingDown(bool shutting_down) {
  std::lock_guard lock(mutex_);
  shutting_down_ = shutting_down;
}

std::vector<std::string> FakeServiceController::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

std::vector<engine::ServiceStatus> FakeServiceController::ListServices() {
  std::lock_guard lock(mutex_);
  return services_;
}

std::shared_ptr<const engine::ServicesSnapshot> FakeServiceController::Snapshot() {
  std::lock_guard lock(mutex_);
  return std::make_shared<const engine::ServicesSnapshot>(
      engine::ServicesSnapshot{.version = version_, .services = services_});
}

Result<engine::ServiceStatus> FakeServiceController::GetService(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (std::optional<Error> error = TakeScriptedError()) {
    return *error;
  }
  if (engine::ServiceStatus* service = Find(name)) {
    return *service;
  }
  return UnknownService(name);
}

Result<engine::ServiceStatus> FakeServiceController::StartService(const std::string& name) {
  return Apply(Action::kStart, name);
}

Result<engine::ServiceStatus> FakeServiceController::StopService(const std::string& name) {
  return Apply(Action::kStop, name);
}

Result<engine::ServiceStatus> FakeServiceController::RestartService(const std::string& name) {
  return Apply(Action::kRestart, name);
}

bool FakeServiceController::IsShuttingDown() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

Result<engine::ServiceStatus> FakeServiceController::Apply(Action action, const std::string& name) {
  std::lock_guard lock(mutex_);
  static constexpr const char* kVerbs[] = {"start", "stop", "restart"};
  calls_.push_back(std::string(kVerbs[static_cast<int>(action)]) + " " + name);
  if (std::optional<Error> error = TakeScriptedError()) {
    return *error;
  }
  engine::ServiceStatus* service = Find(name);
  if (service == nullptr) {
    return UnknownService(name);
  }
  service->uptime_seconds = 0;
  ++version_;
  if (action == Action::kStop) {
    service->state = "stopped";
    service->pid.reset();
    return *service;
  }
  service->state = "running";
  service->pid = next_pid_++;
  if (action == Action::kRestart) {
    ++service->restarts;
  }
  return *service;
}

engine::ServiceStatus* FakeServiceController::Find(const std::string& name) {
  for (engine::ServiceStatus& service : services_) {
    if (service.name == name) {
      return &service;
    }
  }
  return nullptr;
}

std::optional<Error> FakeServiceController::TakeScriptedError() {
  std::optional<Error> error = std::move(next_error_);
  next_error_.reset();
  return error;
}

}  // namespace rebound::testing
