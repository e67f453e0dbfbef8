#include "resilience/retry_budget.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

TEST(RetryBudgetTest, AllowsRetriesUpToTheRatioOfCalls) {
  ManualClock clock;
  auto budget =
      *RetryBudget::Create({.ratio = 0.1, .window = 10s, .min_retries_per_second = 0}, clock);
  for (int i = 0; i < 100; ++i) {
    budget->RecordCall();
  }
  int allowed = 0;
  while (budget->TryWithdraw()) {
    ++allowed;
  }
  EXPECT_EQ(allowed, 10);
  EXPECT_EQ(budget->retries_in_window(), 10);
}

TEST(RetryBudgetTest, MinimumRateAllowsRetriesAtLowTraffic) {
  ManualClock clock;
  auto budget =
      *RetryBudget::Create({.ratio = 0.1, .window = 10s, .min_retries_per_second = 0.5}, clock);
  budget->RecordCall();
  int allowed = 0;
  while (budget->TryWithdraw()) {
    ++allowed;
  }
  EXPECT_EQ(allowed, 5);  // 0.5/s over 10 s
}

TEST(RetryBudgetTest, BudgetRefillsAsTheWindowSlides) {
  ManualClock clock;
  auto budget =
      *RetryBudget::Create({.ratio = 0.5, .window = 2s, .min_retries_per_second = 0}, clock);
  budget->RecordCall();
  budget->RecordCall();
  EXPECT_TRUE(budget->TryWithdraw());
  EXPECT_FALSE(budget->TryWithdraw());
  clock.AdvanceBy(2s);
  EXPECT_FALSE(budget->TryWithdraw());  // no calls in the window: no budget
  budget->RecordCall();
  budget->RecordCall();
  EXPECT_TRUE(budget->TryWithdraw());
}

TEST(RetryBudgetTest, RejectsBadConfig) {
  ManualClock clock;
  EXPECT_FALSE(RetryBudget::Create({.ratio = 1.5}, clock).ok());
  EXPECT_FALSE(RetryBudget::Create({.ratio = -0.1}, clock).ok());
  EXPECT_FALSE(RetryBudget::Create({.window = 100ms}, clock).ok());
  EXPECT_FALSE(RetryBudget::Create({.min_retries_per_second = -1}, clock).ok());
  auto bad = RetryBudget::Create({.ratio = 2}, clock);
  EXPECT_TRUE(bad.error().message().starts_with("retry_budget.ratio"));
}

}  // namespace
}  // namespace rebound::resilience
