#pragma once

// DecideOutcome: what an ended attempt means for its job: the pure core of the JobManager.
//
//   JobOutcome next = DecideOutcome(job, exit, /*timed_out=*/false, classifier, random);
//   // exit code 75 on attempt 1 of 3: {kFailedRetryable, "resource", delay 0..1s}
//
// Rules, in order: exit 0 (not timed out) succeeds, even when a cancel was requested; a
// requested cancel cancels; the rest is classified (a timeout as "timeout", an exit code
// or signal by the classifier, e.g. 75 retryable and 64 not, SIGKILL retryable; an exit
// nobody recorded as "unknown", retryable only for an idempotent job, else interrupted;
// the job's retry_exit_codes and fatal_exit_codes come before the classifier's rules).
// Not retryable: failed. Retryable with attempts left: retrying after the job's backoff
// for this attempt; otherwise exhausted.
//
// Pure apart from the jitter drawn from `random`; thread-compatible.

#include <string>

#include "base/random.h"
#include "jobs/job.h"
#include "resilience/error_classifier.h"
#include "supervise/launcher.h"

namespace rebound::jobs {

struct JobOutcome {
  JobEvent event = JobEvent::kSucceeded;
  std::optional<std::string> error_category = {};
  Duration retry_delay{0};  // kFailedRetryable only
  std::string message = {};
};

JobOutcome DecideOutcome(const JobRecord& job, const supervise::ExitInfo& exit, bool timed_out,
                         const resilience::ErrorClassifier& classifier, Random& random);

// The backoff before retry number `retry` (1 = after the first failed attempt).
Duration RetryDelay(const resilience::BackoffConfig& config, int retry, Random& random);

// A JobExit for the record.
JobExit ToJobExit(const supervise::ExitInfo& exit, bool timed_out);

}  // namespace rebound::jobs
