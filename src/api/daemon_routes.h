#pragma once

// The daemon's own routes.
//
//   RegisterDaemonRoutes(server, daemon);
//
//   GET  /v1/daemon          200 {"version", "pid", "started_at_ms", "uptime_seconds",
//                                 "data_dir", "config_path", "config_digest", "listen",
//                                 "services"}
//   POST /v1/daemon/reload   200 {"added": [...], "removed": [...], "changed": [...],
//                                 "unchanged": [...], "config_digest"}; a configuration that
//                                 does not load is 422 validation (or 404 not_found) with the
//                                 config error, and nothing changes; 503 while shutting down.
//
// The controller must outlive the server's Stop().

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "engine/daemon_controller.h"

namespace rebound::api {

void RegisterDaemonRoutes(HttpServer& server, engine::DaemonController& daemon);

nlohmann::json DaemonInfoToJson(const engine::DaemonInfo& info);
nlohmann::json ReloadOutcomeToJson(const engine::ReloadOutcome& outcome);

}  // namespace rebound::api
