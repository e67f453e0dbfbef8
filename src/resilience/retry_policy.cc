#include "resilience/retry_policy.h"

#include <array>

#include "base/duration.h"

namespace rebound::resilience {

std::string_view GiveUpReasonName(GiveUpReason reason) {
  static constexpr std::array<std::string_view, 5> kNames = {
      "none", "not retryable", "attempts exhausted", "max elapsed time exceeded",
      "retry budget exhausted"};
  return kNames[static_cast<size_t>(reason)];
}

Result<RetryPolicy> RetryPolicy::Create(RetryPolicyConfig config, ErrorClassifier classifier,
                                        std::shared_ptr<RetryBudget> budget) {
  if (config.max_attempts < 1) {
    return ValidationError("retry.max_attempts must be at least 1 (got " +
                           std::to_string(config.max_attempts) + ")");
  }
  if (config.max_elapsed < Duration::zero()) {
    return ValidationError("retry.max_elapsed must not be negative (got " +
                           FormatDuration(config.max_elapsed) + ")");
  }
  REBOUND_RETURN_IF_ERROR(ValidateBackoffConfig(config.backoff));
  return RetryPolicy(std::move(config),
                     std::make_shared<const ErrorClassifier>(std::move(classifier)),
                     std::move(budget));
}

RetryState::RetryState(const RetryPolicy& policy, const Clock& clock, Random& random)
    : policy_(policy),
      clock_(clock),
      random_(random),
      started_(policy.config().max_elapsed > Duration::zero() ? clock.MonotonicNow() : MonoTime()) {
  if (policy_.budget() != nullptr) {
    policy_.budget()->RecordCall();
  }
}

RetryDecision RetryState::NextDelay(const Error& error) {
  if (!policy_.classifier().Classify(error).retryable) {
    return {false, Duration::zero(), GiveUpReason::kNotRetryable};
  }
  if (attempts_ >= policy_.config().max_attempts) {
    return {false, Duration::zero(), GiveUpReason::kAttemptsExhausted};
  }
  if (!backoff_.has_value()) {
    // The policy validated its backoff config at creation, so this cannot fail.
    backoff_.emplace(*Backoff::Create(policy_.config().backoff, random_));
  }
  const Duration delay = backoff_->NextDelay();
  const Duration max_elapsed = policy_.config().max_elapsed;
  if (max_elapsed > Duration::zero() && clock_.MonotonicNow() - started_ + delay > max_elapsed) {
    return {false, Duration::zero(), GiveUpReason::kElapsedExceeded};
  }
  if (policy_.budget() != nullptr && !policy_.budget()->TryWithdraw()) {
    return {false, Duration::zero(), GiveUpReason::kBudgetExhausted};
  }
  ++attempts_;
  return {true, delay, GiveUpReason::kNone};
}

}  // namespace rebound::resilience
