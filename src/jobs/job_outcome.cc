#include "jobs/job_outcome.h"

#include <algorithm>

#include "base/duration.h"

namespace rebound::jobs {
namespace {

constexpr int kMaxBackoffSteps = 64;  // beyond this every strategy sits at its max

bool ExitUnknown(const supervise::ExitInfo& exit) { return !exit.exit_code && !exit.signal; }

resilience::Classification Classify(const JobRecord& job, const supervise::ExitInfo& exit,
                                    bool timed_out, const resilience::ErrorClassifier& classifier) {
  if (timed_out) {
    return {ErrorCategory::kTimeout, true};
  }
  if (exit.exit_code) {
    const std::vector<int>& retry = job.spec.retry.retry_exit_codes;
    const std::vector<int>& fatal = job.spec.retry.fatal_exit_codes;
    const resilience::Classification builtin = classifier.ClassifyExit(*exit.exit_code);
    if (std::find(retry.begin(), retry.end(), *exit.exit_code) != retry.end()) {
      return {builtin.category, true};
    }
    if (std::find(fatal.begin(), fatal.end(), *exit.exit_code) != fatal.end()) {
      return {builtin.category, false};
    }
    return builtin;
  }
  if (exit.signal) {
    return classifier.ClassifySignal(*exit.signal);
  }
  return {ErrorCategory::kUnknown, job.spec.idempotent};
}

std::string AttemptText(const JobRecord& job) {
  return "attempt " + std::to_string(job.attempt) + " of " +
         std::to_string(job.spec.retry.max_attempts);
}

}  // namespace

Duration RetryDelay(const resilience::BackoffConfig& config, int retry, Random& random) {
  auto backoff = resilience::Backoff::Create(config, random);
  if (!backoff.ok()) {
    return config.max;  // validated at submit; a stored config is trusted
  }
  Duration delay{0};
  for (int i = 0; i < std::min(retry, kMaxBackoffSteps); ++i) {
    delay = backoff->NextDelay();
  }
  return delay;
}

JobExit ToJobExit(const supervise::ExitInfo& exit, bool timed_out) {
  return JobExit{.code = exit.exit_code,
                 .signal = exit.signal,
                 .timed_out = timed_out,
                 .description = exit.description};
}

JobOutcome DecideOutcome(const JobRecord& job, const supervise::ExitInfo& exit, bool timed_out,
                         const resilience::ErrorClassifier& classifier, Random& random) {
  const std::string what = AttemptText(job) + " " + exit.description;
  if (exit.IsSuccess() && !timed_out) {
    return {.event = JobEvent::kSucceeded, .message = what};
  }
  if (job.cancel_requested) {
    return {.event = JobEvent::kCancelled, .message = "cancelled; " + what};
  }
  const std::string timeout_text =
      timed_out ? "timed out after " + FormatDuration(job.spec.timeout) + "; " : "";
  const resilience::Classification c = Classify(job, exit, timed_out, classifier);
  const std::string category(CategoryName(c.category));
  if (ExitUnknown(exit) && !timed_out && !job.spec.idempotent) {
    return {.event = JobEvent::kInterrupted,
            .error_category = category,
            .message = what + "; not idempotent, so it waits for `rebound jobs retry " +
                       std::to_string(job.id) + "`"};
  }
  if (!c.retryable) {
    return {.event = JobEvent::kFailedPermanently,
            .error_category = category,
            .message = timeout_text + what + " (" + category + ", not retryable)"};
  }
  if (job.attempt >= job.spec.retry.max_attempts) {
    return {.event = JobEvent::kGaveUp,
            .error_category = category,
            .message = timeout_text + what + " (" + category + "); no attempts left"};
  }
  const Duration delay = RetryDelay(job.spec.retry.backoff, job.attempt, random);
  return {.event = JobEvent::kFailedRetryable,
          .error_category = category,
          .retry_delay = delay,
          .message = timeout_text + what + " (" + category + "); retry in " +
                     FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(delay))};
}

}  // namespace rebound::jobs
