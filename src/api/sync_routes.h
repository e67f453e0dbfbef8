#pragma once

// The sync routes of the HTTP API (issue 7), on top of the engine's SyncController.
//
//   POST /api/sync/force    200 REPORT   a round now (after a running one), its report
//   POST /v1/sync/force     200 REPORT   the same handler
//   GET  /v1/sync           200 {"enabled", "interval", "strategy", "modules",
//                                "rounds_total", "conflicts_total", "last_round": REPORT|null}
//
// REPORT = {"started_at_ms", "duration_ms", "to_store", "to_memory", "unchanged",
// "conflicts", "errors", "modules": [{"module", "direction", "store_version", "detail"?}]}.
// Forcing without [sync] configured is 422; while the daemon stops, 503. POSTs need the
// token like every mutating route. Formats are in docs/api.md. The controller must outlive
// the server's Stop().

#include "api/http_server.h"
#include "engine/sync_controller.h"

namespace rebound::api {

void RegisterSyncRoutes(HttpServer& server, engine::SyncController& controller);

}  // namespace rebound::api
