#include "resilience/retry_policy.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

RetryPolicy MakePolicy(RetryPolicyConfig config, ErrorClassifier classifier = {},
                       std::shared_ptr<RetryBudget> budget = nullptr) {
  auto policy = RetryPolicy::Create(std::move(config), std::move(classifier), std::move(budget));
  EXPECT_TRUE(policy.ok());
  return *policy;
}

TEST(RetryPolicyTest, RetriesTransientFailuresUntilSuccessSleepingTheBackoff) {
  ManualClock clock;
  Random random(1);
  RetryPolicy policy = MakePolicy({.max_attempts = 5, .backoff = {.initial = 1s, .max = 1min}});
  int calls = 0;
  Result<std::string> result = Retry(policy, clock, random, [&]() -> Result<std::string> {
    if (++calls < 3) {
      return NetworkError("connection reset");
    }
    return std::string("ok");
  });
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "ok");
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(clock.TotalSlept(), 3s);  // 1 s + 2 s
}

TEST(RetryPolicyTest, GivesUpAfterMaxAttemptsKeepingTheCategory) {
  ManualClock clock;
  Random random(1);
  RetryPolicy policy = MakePolicy({.max_attempts = 3, .backoff = {.initial = 1s}});
  int calls = 0;
  Result<int> result = Retry(policy, clock, random, [&]() -> Result<int> {
    ++calls;
    return TimeoutError("read timed out");
  });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(result.error().category(), ErrorCategory::kTimeout);
  EXPECT_EQ(result.error().message(),
            "gave up after 3 attempt(s) (attempts exhausted): read timed out");
}

TEST(RetryPolicyTest, NeverRetriesPermanentErrors) {
  ManualClock clock;
  Random random(1);
  RetryPolicy policy = MakePolicy({.max_attempts = 10});
  int calls = 0;
  Result<int> result = Retry(policy, clock, random, [&]() -> Result<int> {
    ++calls;
    return ValidationError("bad argument");
  });
  EXPECT_EQ(calls, 1);
  EXPECT_NE(result.error().message().find("not retryable"), std::string::npos);
  EXPECT_EQ(clock.TotalSlept(), 0s);
}

TEST(RetryPolicyTest, StepwiseStateStopsAtMaxElapsedTime) {
  ManualClock clock;
  Random random(1);
  RetryPolicy policy =
      MakePolicy({.max_attempts = 100, .max_elapsed = 10s, .backoff = {.initial = 2s, .max = 2s}});
  RetryState state(policy, clock, random);
  int retries = 0;
  while (true) {
    RetryDecision decision = state.NextDelay(NetworkError("down"));
    if (!decision.retry) {
      EXPECT_EQ(decision.reason, GiveUpReason::kElapsedExceeded);
      break;
    }
    EXPECT_EQ(decision.delay, 2s);
    clock.AdvanceBy(decision.delay);
    ++retries;
  }
  EXPECT_EQ(retries, 5);  // attempts start at 0, 2, 4, 6, 8, 10 s
  EXPECT_EQ(state.attempts(), 6);
}

TEST(RetryPolicyTest, ClassifierRulesDecideRetryability) {
  ManualClock clock;
  Random random(1);
  ErrorClassifier classifier;
  classifier.OnCategory(ErrorCategory::kNetwork, false);
  RetryPolicy policy = MakePolicy({.max_attempts = 5}, classifier);
  RetryState state(policy, clock, random);
  EXPECT_EQ(state.NextDelay(NetworkError("x")).reason, GiveUpReason::kNotRetryable);
}

TEST(RetryPolicyTest, BudgetStopsRetryStormsAcrossOperations) {
  ManualClock clock;
  Random random(1);
  auto budget = std::shared_ptr<RetryBudget>(std::move(
      *RetryBudget::Create({.ratio = 0.2, .window = 10s, .min_retries_per_second = 0}, clock)));
  RetryPolicy policy = MakePolicy({.max_attempts = 3, .backoff = {.initial = 0s}}, {}, budget);
  int calls = 0;
  int budget_refusals = 0;
  for (int op = 0; op < 50; ++op) {
    RetryState state(policy, clock, random);
    while (true) {
      ++calls;
      RetryDecision decision = state.NextDelay(NetworkError("down"));
      if (!decision.retry) {
        budget_refusals += decision.reason == GiveUpReason::kBudgetExhausted ? 1 : 0;
        break;
      }
    }
  }
  // Without the budget: 150 calls. With it, retries stay near 20% of the 50 first attempts.
  EXPECT_LE(calls, 50 + 10 + 1);
  EXPECT_GT(budget_refusals, 30);
}

TEST(RetryPolicyTest, RejectsBadConfig) {
  EXPECT_EQ(RetryPolicy::Create({.max_attempts = 0}).error().message(),
            "retry.max_attempts must be at least 1 (got 0)");
  EXPECT_FALSE(RetryPolicy::Create({.max_elapsed = -1s}).ok());
  EXPECT_TRUE(RetryPolicy::Create({.backoff = {.factor = 0.5}})
                  .error()
                  .message()
                  .starts_with("backoff.factor"));
}

}  // namespace
}  // namespace rebound::resilience
