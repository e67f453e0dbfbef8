#pragma once

// RetryPolicy: when to try a failed operation again, and how long to wait first.
//
//   auto policy = RetryPolicy::Create({.max_attempts = 5,
//                                      .max_elapsed = std::chrono::seconds(30),
//                                      .backoff = {.initial = 100ms, .jitter = Jitter::kFull}});
//   // Synchronous: sleeps (through the Clock) between attempts.
//   Result<Response> r = Retry(*policy, clock, random, [&] { return client.Get(url); });
//
//   // Step-wise, for an event loop that must not block:
//   RetryState state(*policy, clock, random);
//   ... attempt fails with `error` ...
//   RetryDecision next = state.NextDelay(error);
//   if (next.retry) loop.ScheduleAfter(next.delay, attempt_again);
//   else report(next.reason);
//
// A failure is retried only if the classifier says it is retryable, attempts remain, the
// next attempt would start within max_elapsed of the first, and the budget (if any) allows.
// The policy is immutable and may be shared; a RetryState belongs to one operation.

#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "base/clock.h"
#include "base/error.h"
#include "base/random.h"
#include "resilience/backoff.h"
#include "resilience/error_classifier.h"
#include "resilience/retry_budget.h"

namespace rebound::resilience {

struct RetryPolicyConfig {
  int max_attempts = 3;     // the first attempt included; 1 means never retry
  Duration max_elapsed{0};  // 0: no limit
  BackoffConfig backoff = {};
};

enum class GiveUpReason {
  kNone,
  kNotRetryable,
  kAttemptsExhausted,
  kElapsedExceeded,
  kBudgetExhausted
};
std::string_view GiveUpReasonName(GiveUpReason reason);

struct RetryDecision {
  bool retry = false;
  Duration delay{0};
  GiveUpReason reason = GiveUpReason::kNone;
};

class RetryPolicy {
 public:
  // `budget` may be null (no budget); it is shared by everything using this policy.
  static Result<RetryPolicy> Create(RetryPolicyConfig config,
                                    ErrorClassifier classifier = ErrorClassifier(),
                                    std::shared_ptr<RetryBudget> budget = nullptr);

  const RetryPolicyConfig& config() const { return config_; }
  const ErrorClassifier& classifier() const { return *classifier_; }
  RetryBudget* budget() const { return budget_.get(); }

 private:
  RetryPolicy(RetryPolicyConfig config, std::shared_ptr<const ErrorClassifier> classifier,
              std::shared_ptr<RetryBudget> budget)
      : config_(std::move(config)),
        classifier_(std::move(classifier)),
        budget_(std::move(budget)) {}

  RetryPolicyConfig config_;
  std::shared_ptr<const ErrorClassifier> classifier_;
  std::shared_ptr<RetryBudget> budget_;
};

// The progress of one operation under a policy. Construct it when the first attempt starts.
// Not thread-safe. Policy, clock and random must outlive it.
class RetryState {
 public:
  RetryState(const RetryPolicy& policy, const Clock& clock, Random& random);

  // After attempt number attempts() failed with `error`: retry after `delay`, or give up.
  RetryDecision NextDelay(const Error& error);
  // Attempts started so far (1 after construction).
  int attempts() const { return attempts_; }

 private:
  const RetryPolicy& policy_;
  const Clock& clock_;
  Random& random_;
  std::optional<Backoff> backoff_;  // made at the first failure: success costs nothing
  MonoTime started_;  // read only with a max_elapsed limit: success costs no clock read
  int attempts_ = 1;
};

// Calls `fn` (returning Result<T>) until it succeeds or the policy gives up; sleeps through
// `clock` between attempts. The final error says how many attempts were made and why
// retrying stopped, and keeps the last attempt's category.
template <typename Fn>
auto Retry(const RetryPolicy& policy, Clock& clock, Random& random, Fn&& fn)
    -> std::invoke_result_t<Fn&> {
  RetryState state(policy, clock, random);
  while (true) {
    auto result = fn();
    if (result.ok()) {
      return result;
    }
    const RetryDecision decision = state.NextDelay(result.error());
    if (!decision.retry) {
      return result.error().WithContext("gave up after " + std::to_string(state.attempts()) +
                                        " attempt(s) (" +
                                        std::string(GiveUpReasonName(decision.reason)) + ")");
    }
    clock.SleepFor(decision.delay);
  }
}

}  // namespace rebound::resilience
