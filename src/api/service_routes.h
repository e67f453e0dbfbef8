#pragma once

// The service routes of the HTTP API, on top of the engine's ServiceController.
//
//   HttpServer server;
//   RegisterServiceRoutes(server, controller);
//   REBOUND_RETURN_IF_ERROR(server.Start("127.0.0.1", 7300, token));
//
//   GET  /health                        200 healthy / 503 unhealthy or shutting_down
//   GET  /v1/services                   {"services": [SERVICE, ...]}
//   GET  /v1/services/:name             SERVICE, or 404
//   POST /v1/services/:name/start       202 SERVICE   (also stop, restart)
//
// Formats are in docs/api.md. Mutating routes answer 503 shutting_down once the controller
// is shutting down; reads keep working so that operators can watch the shutdown.
// /health reads controller.Snapshot() and answers the body it serialized last while the
// snapshot's version, the shutdown flag and the extra components are unchanged.
//
// The controller must outlive the server's Stop(); it is called from the server's threads.

#include <functional>
#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "engine/service_controller.h"

namespace rebound::api {

// Components /health reports beside the services (e.g. "jobs"); they do not change its status.
using ExtraHealthComponents = std::function<nlohmann::json()>;

void RegisterServiceRoutes(HttpServer& server, engine::ServiceController& controller,
                           ExtraHealthComponents extra_health = {});

// {"name", "state", "pid" (null), "restarts", "uptime_seconds", "last_exit" (null),
//  "required", "message", "health", "breaker", "recovery", "status_text"}
nlohmann::json ServiceToJson(const engine::ServiceStatus& service);

// The /health answer for these services: 200 when every required one is healthy: running,
// its probe (if it has one) healthy, its breaker not open.
HttpResponse HealthResponse(const std::vector<engine::ServiceStatus>& services, bool shutting_down);

}  // namespace rebound::api
