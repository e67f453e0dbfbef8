#pragma once

// JobObserver: what the daemon's metrics learn from the durable jobs as it happens.
//
//   service.SetObserver({.submitted = [&](const JobRecord& job) { ++submitted[job.spec.queue]; },
//                        .ended = [&](const JobRecord& job) { ++ended[job.state]; }});
//
// Each callback is optional. `submitted` runs on the submitting (API) thread, right after the
// job is durable; the others run on the loop thread. Callbacks must be cheap and must not
// call back into the jobs (an atomic counter is the intended use).

#include <functional>

#include "base/clock.h"
#include "jobs/job.h"

namespace rebound::jobs {

struct JobObserver {
  // A submit created this job (an idempotent resubmit of an existing key is not told).
  std::function<void(const JobRecord& job)> submitted = {};
  // An attempt's shim was launched (re-adopted attempts after a restart are not told again).
  std::function<void(const JobRecord& job)> attempt_started = {};
  // An attempt this daemon watched ended; `ran` is from its launch (or, re-adopted, from
  // when it was recorded running) to its exit.
  std::function<void(const JobRecord& job, Duration ran)> attempt_ended = {};
  // The job reached a final state (job.state: succeeded, failed, exhausted, cancelled or
  // interrupted).
  std::function<void(const JobRecord& job)> ended = {};
};

}  // namespace rebound::jobs
