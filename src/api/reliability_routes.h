#pragma once

// The detect-and-recover routes of the HTTP API (seed 001's paths, exactly), on top of the
// engine's ReliabilityController.
//
//   GET  /reliability                                200 breakers, recovery, health monitor
//   POST /reliability/auto-recovery/:name/trigger    202 {"service", "message", "auto_recovery"}
//   POST /reliability/circuit-breaker/:name/reset    200 {"service", "message", "circuit_breaker"}
//   POST /v1/heartbeat/:name                         200 {"service", "received": true}
//   POST /v1/services/:name/report                   200 {"service", "breaker"}
//        body {"success": true|false, "latency_ms": 12.5}   (latency_ms optional)
//
// Unknown names are 404, a heartbeat for a service without a heartbeat probe 409, a trigger
// for a service stopped by hand or FATAL 409, a report without a boolean "success" 422
// naming the field. Formats are in docs/api.md.
// The controller must outlive the server's Stop(); it is called from the server's threads.

#include "api/http_server.h"
#include "engine/reliability_controller.h"

namespace rebound::api {

void RegisterReliabilityRoutes(HttpServer& server, engine::ReliabilityController& controller);

}  // namespace rebound::api
