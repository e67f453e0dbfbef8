#pragma once

// ReliabilityController: what the API may ask of the daemon's detect-and-recover half
// (seed 001's /reliability endpoints, heartbeats and client reports). The engine implements
// it; api/ consumes it; tests use testing/FakeServiceController.
//
//   nlohmann::json status = controller.ReliabilityStatus();      // GET /reliability
//   Status s = controller.TriggerRecovery("model_server");       // not_found if unknown
//
// Implementations are thread-safe.

#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::engine {

class ReliabilityController {
 public:
  virtual ~ReliabilityController() = default;

  // {"circuit_breakers": {...}, "auto_recovery": {...}, "health_monitor": {...},
  //  "graceful_shutdown": {...}, "mttr_seconds": ..., "uptime_target": 99.9}
  virtual nlohmann::json ReliabilityStatus() = 0;
  // True if a recovery attempt started, false if one was already running (the trigger joins
  // it). not_found if unknown; conflict if the service is stopped by hand or FATAL.
  virtual Result<bool> TriggerRecovery(const std::string& name) = 0;
  // Closes the service's breaker and forgets its recovery attempts.
  virtual Status ResetBreaker(const std::string& name) = 0;
  // conflict if the service has no heartbeat probe.
  virtual Status Heartbeat(const std::string& name) = 0;
  // A client's call to the service succeeded or failed; returns the breaker state after it.
  virtual Result<std::string> ReportCall(const std::string& name, bool success,
                                         Duration latency) = 0;
};

}  // namespace rebound::engine
