#pragma once

// The durable-job routes of the HTTP API, on top of jobs::JobController (docs/jobs.md).
//
//   RegisterJobRoutes(server, daemon.jobs());
//
//   POST /v1/jobs                 201 JOB (created), 200 JOB (same idempotency key), 422
//   GET  /v1/jobs                 {"jobs": [JOB...], "next_after": ID|null}
//                                 ?state=S&queue=Q&after=ID&limit=N (N <= 1000)
//   GET  /v1/jobs/:id             JOB, or 404
//   POST /v1/jobs/:id/cancel      202 JOB, 409 when it already ended
//   POST /v1/jobs/:id/retry       202 JOB, 409 unless failed/exhausted/cancelled/interrupted
//   GET  /v1/jobs/:id/logs        {"data", "next_offset", "finished"}  ?offset=N
//
// Bad input answers 422 {"error": {"code": "validation", "message": "field \"...\": ..."}}.
// The controller must outlive the server's Stop(); it is called from the server's threads.

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "jobs/job_controller.h"

namespace rebound::api {

void RegisterJobRoutes(HttpServer& server, jobs::JobController& controller);

// The "jobs" component of /health: {"status": "healthy", "by_state": {...},
// "queues": {NAME: {"queued", "running", "retrying"}}}, or "unknown" if the store fails.
nlohmann::json JobsHealthComponent(jobs::JobController& controller);

}  // namespace rebound::api
