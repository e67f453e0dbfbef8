#pragma once

// ServiceController: what the API and CLI may ask of the running daemon's supervisor.
// The engine implements it; api/ consumes it; tests use testing/FakeServiceController.
//
//   for (const ServiceStatus& s : controller.ListServices()) Print(s.name, s.state);
//   Result<ServiceStatus> r = controller.RestartService("api");   // not_found if unknown
//
// Implementations are thread-safe (API threads call them concurrently). Mutating calls
// return once the request is accepted by the engine (e.g. "stopping"), not when the
// process has finished stopping.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::engine {

struct ServiceStatus {
  std::string name;
  // "stopped", "running", "backoff", "stopping", "exited", "fatal"
  std::string state;
  std::optional<int64_t> pid = {};  // the service's own process, never the shim's
  int64_t restarts = 0;
  double uptime_seconds = 0;  // 0 unless running
  // {"code": int|null, "signal": int|null, "at_ms": int} of the last exit, if any.
  std::optional<nlohmann::json> last_exit = {};
  bool required = true;      // counts for /health
  std::string message = {};  // e.g. "restart 3 in 400ms", "too many restarts"
  // Detect and recover: the probe's verdict ("healthy", "unhealthy", "starting", "unknown",
  // or "none" without a probe), the breaker state, the recovery phase, a notify STATUS=.
  std::string health = "none";
  std::string breaker = "closed";
  std::string recovery = "idle";
  std::string status_text = {};
  // When the current run began (set while running): uptime_seconds derives from it.
  std::optional<WallTime> running_since = {};

  bool operator==(const ServiceStatus&) const = default;
};

// Every service's status as the engine last published it. `version` changes whenever any
// field but uptime_seconds does (uptime grows on its own and is 0 here: readers derive it
// from running_since), so readers may cache what they compute from a version.
struct ServicesSnapshot {
  uint64_t version = 0;
  std::vector<ServiceStatus> services = {};
};

class ServiceController {
 public:
  virtual ~ServiceController() = default;

  virtual std::vector<ServiceStatus> ListServices() = 0;
  // The last published statuses; cheap (no copy of the statuses), never waits on the engine.
  virtual std::shared_ptr<const ServicesSnapshot> Snapshot() = 0;
  virtual Result<ServiceStatus> GetService(const std::string& name) = 0;
  virtual Result<ServiceStatus> StartService(const std::string& name) = 0;
  virtual Result<ServiceStatus> StopService(const std::string& name) = 0;
  virtual Result<ServiceStatus> RestartService(const std::string& name) = 0;
  // True once a graceful shutdown has begun: the API answers 503 then.
  virtual bool IsShuttingDown() const = 0;
};

}  // namespace rebound::engine
