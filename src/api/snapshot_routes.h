#pragma once

// The snapshot routes of the HTTP API (issue 7), on top of the engine's SnapshotController.
//
//   GET  /v1/snapshots                  200 {"snapshots": [{commit, time, message, tags,
//                                            size_bytes}], "repository"}
//   POST /v1/snapshots                  201 {commit, timestamp, size_bytes, redacted_values}
//        body {"message": "before upgrade"}   (optional)
//   POST /v1/snapshots/recover          200 {"dry_run", "plan", "pre_recovery_commit",
//                                            "started"}
//        body {"commit": ID} | {"tag": NAME} | {"at": "2026-01-01T00:00:00Z"}, "dry_run": bool
//        (none of commit/tag/at: the newest snapshot)
//   POST /v1/snapshots/:commit/tags     201 {"commit", "tag"}     body {"name": "known-good"}
//   POST /v1/snapshots/prune            200 {"keep", "kept", "dropped", "objects_removed"}
//        body {"keep": N}   (optional: the configured [snapshots] keep)
//   POST /v1/snapshots/push             200 {"remote", "pushed": true, "head"}
//   GET  /v1/snapshots/remote           200 {"remote", "branch", "local_head", "remote_head",
//                                            "remote_behind_by", "last_pushed"}
//
// A body field of the wrong type or two of commit/tag/at are 422 naming the field; an
// unknown commit, tag or time is 404; an existing tag 409; a module changed during recovery
// 409; push or remote without a configured remote 422, a diverged remote 409, an unreachable
// one 500 with code "network" (retry later). Formats are in docs/api.md. The controller must
// outlive the server's Stop().

#include "api/http_server.h"
#include "engine/snapshot_controller.h"

namespace rebound::api {

void RegisterSnapshotRoutes(HttpServer& server, engine::SnapshotController& controller);

// The recover body as a request; a validation Error naming the field otherwise.
Result<engine::RecoverRequest> ParseRecoverRequest(const nlohmann::json& body);
// The prune body's "keep" (nullopt: absent); a validation Error unless 1..1000000.
Result<std::optional<int>> ParsePruneRequest(const nlohmann::json& body);

}  // namespace rebound::api
