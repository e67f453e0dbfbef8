#pragma once

// FakeServiceController: an in-memory ServiceController for API and CLI tests. Start, stop
// and restart change the stored status at once (a real engine answers "starting"/"stopping"
// and finishes later); errors and shutdown are scripted.
//
//   FakeServiceController controller;
//   controller.AddService({.name = "api", .state = "running", .pid = 4242});
//   controller.FailNextCall(ConflictError("api is already stopping"));
//   RegisterServiceRoutes(server, controller);
//   ...
//   EXPECT_EQ(controller.calls(), (std::vector<std::string>{"restart api"}));
//
// Thread-safe (the HTTP server calls it from its worker threads). Owns its statuses.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/service_controller.h"

namespace rebound::testing {

class FakeServiceController final : public engine::ServiceController {
 public:
  // Adds or replaces the service with this name; services list in insertion order.
  void AddService(engine::ServiceStatus status);
  // The next call (of any kind that can fail) returns this error instead of acting.
  void FailNextCall(Error error);
  void SetShuttingDown(bool shutting_down);
  // Mutating calls that reached the controller, as "start api", "stop db", "restart api".
  std::vector<std::string> calls() const;

  std::vector<engine::ServiceStatus> ListServices() override;
  // The statuses with a version that AddService and every successful action bump.
  std::shared_ptr<const engine::ServicesSnapshot> Snapshot() override;
  Result<engine::ServiceStatus> GetService(const std::string& name) override;
  // state "running", a new pid, uptime 0.
  Result<engine::ServiceStatus> StartService(const std::string& name) override;
  // state "stopped", no pid, uptime 0.
  Result<engine::ServiceStatus> StopService(const std::string& name) override;
  // As start, and restarts + 1.
  Result<engine::ServiceStatus> RestartService(const std::string& name) override;
  bool IsShuttingDown() const override;

 private:
  enum class Action { kStart, kStop, kRestart };

  Result<engine::ServiceStatus> Apply(Action action, const std::string& name);
  // REQUIRES: mutex_ held.
  engine::ServiceStatus* Find(const std::string& name);
  // REQUIRES: mutex_ held.
  std::optional<Error> TakeScriptedError();

  mutable std::mutex mutex_;
  std::vector<engine::ServiceStatus> services_;
  std::vector<std::string> calls_;
  std::optional<Error> next_error_;
  bool shutting_down_ = false;
  int64_t next_pid_ = 10000;
  uint64_t version_ = 1;
};

}  // namespace rebound::testing
