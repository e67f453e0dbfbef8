#include "resilience/sliding_window.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

TEST(CountWindowTest, KeepsOnlyTheLastNOutcomes) {
  CountWindow window(4);
  window.Record(kOutcomeFailure);
  window.Record(kOutcomeFailure | kOutcomeSlowBit);
  window.Record(kOutcomeSuccess);
  WindowTotals totals = window.Totals();
  EXPECT_EQ(totals.calls, 3);
  EXPECT_EQ(totals.failures, 2);
  EXPECT_EQ(totals.slow, 1);
  window.Record(kOutcomeSuccess);
  window.Record(kOutcomeSuccess);  // evicts the first failure
  window.Record(kOutcomeSuccess);  // evicts the slow failure
  totals = window.Totals();
  EXPECT_EQ(totals.calls, 4);
  EXPECT_EQ(totals.failures, 0);
  EXPECT_EQ(totals.slow, 0);
  EXPECT_FALSE(window.MayHoldBadCalls());
}

TEST(CountWindowTest, RatesAndReset) {
  CountWindow window(10);
  for (int i = 0; i < 10; ++i) {
    window.Record(i < 3 ? kOutcomeFailure : kOutcomeSuccess | kOutcomeSlowBit);
  }
  EXPECT_DOUBLE_EQ(window.Totals().FailureRate(), 0.3);
  EXPECT_DOUBLE_EQ(window.Totals().SlowRate(), 0.7);
  EXPECT_TRUE(window.MayHoldBadCalls());
  window.Reset();
  EXPECT_EQ(window.Totals().calls, 0);
  EXPECT_DOUBLE_EQ(window.Totals().FailureRate(), 0.0);
}

TEST(TimeWindowTest, CountsOnlyTheLastNSeconds) {
  ManualClock clock;
  TimeWindow window(10, clock);
  window.Record(kOutcomeFailure);
  clock.AdvanceBy(5s);
  window.Record(kOutcomeSuccess);
  window.Record(kOutcomeSuccess | kOutcomeSlowBit);
  WindowTotals totals = window.Totals();
  EXPECT_EQ(totals.calls, 3);
  EXPECT_EQ(totals.failures, 1);
  EXPECT_EQ(totals.slow, 1);
  clock.AdvanceBy(5s);  // the failure is now 10 s old: out
  totals = window.Totals();
  EXPECT_EQ(totals.calls, 2);
  EXPECT_EQ(totals.failures, 0);
  EXPECT_TRUE(window.MayHoldBadCalls());  // the slow call is still in
  clock.AdvanceBy(5s);
  EXPECT_EQ(window.Totals().calls, 0);
  EXPECT_FALSE(window.MayHoldBadCalls());
}

TEST(TimeWindowTest, ReusesABucketForANewSecond) {
  ManualClock clock;
  TimeWindow window(2, clock);
  window.Record(kOutcomeFailure);
  clock.AdvanceBy(2s);  // same bucket index, new second
  window.Record(kOutcomeSuccess);
  EXPECT_EQ(window.Totals().calls, 1);
  EXPECT_EQ(window.Totals().failures, 0);
}

TEST(TimeWindowTest, AddCountsManyAtOnceAndResetClears) {
  ManualClock clock;
  TimeWindow window(60, clock);
  window.Add(100, 7, 3);
  EXPECT_EQ(window.Totals().calls, 100);
  EXPECT_EQ(window.Totals().failures, 7);
  window.Reset();
  EXPECT_EQ(window.Totals().calls, 0);
  EXPECT_FALSE(window.MayHoldBadCalls());
}

}  // namespace
}  // namespace rebound::resilience
