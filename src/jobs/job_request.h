#pragma once

// ParseJobRequest: the body of POST /v1/jobs (and of `rebound jobs submit`) into a JobSpec.
//
//   auto spec = ParseJobRequest(R"({"command": ["./import"], "retry": {"max_attempts": 5},
//                                   "timeout": "10m"})"_json);
//   // bad input: a validation Error naming the field, e.g.
//   //   field "retry.max_attempts": must be an integer from 1 to 1000, got 0
//
// Fields (docs/jobs.md): command (required), queue, key, priority, retry {strategy,
// max_attempts, initial, increment, factor, max, jitter}, timeout, stop_timeout, idempotent,
// cwd, env. Unknown fields are errors, so a typo never silently means a default.
//
// Pure; thread-safe. Whether the queue exists is the JobService's check, not this one's.

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "jobs/job.h"

namespace rebound::jobs {

Result<JobSpec> ParseJobRequest(const nlohmann::json& body);

}  // namespace rebound::jobs
