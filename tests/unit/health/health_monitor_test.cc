#include "health/health_monitor.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::health {
namespace {

using namespace std::chrono_literals;

class HealthMonitorTest : public ::testing::Test {
 protected:
  HealthMonitor Make(ProbeSpec spec) { return HealthMonitor(std::move(spec), clock_); }
  static ProbeResult Ok() { return {.ok = true, .latency = 2ms}; }
  static ProbeResult Fail(std::string why = "refused") { return {.ok = false, .reason = why}; }

  ManualClock clock_;
};

TEST_F(HealthMonitorTest, UnknownUntilStartedThenStartingUntilAVerdict) {
  HealthMonitor monitor = Make({.failure_threshold = 3});
  EXPECT_EQ(monitor.status(), HealthStatus::kUnknown);
  EXPECT_FALSE(monitor.Record(Ok()));  // a late result for a process that is gone
  monitor.OnServiceStarted();
  EXPECT_EQ(monitor.status(), HealthStatus::kStarting);
  auto change = monitor.Record(Ok());
  ASSERT_TRUE(change);
  EXPECT_EQ(change->from, HealthStatus::kStarting);
  EXPECT_EQ(change->to, HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, UnhealthyOnlyAfterFailureThresholdConsecutiveFailures) {
  HealthMonitor monitor = Make({.failure_threshold = 3});
  monitor.OnServiceStarted();
  monitor.Record(Ok());
  EXPECT_FALSE(monitor.Record(Fail()));
  EXPECT_FALSE(monitor.Record(Fail()));
  EXPECT_FALSE(monitor.Record(Ok()));  // the streak starts over
  EXPECT_FALSE(monitor.Record(Fail()));
  EXPECT_FALSE(monitor.Record(Fail()));
  auto change = monitor.Record(Fail("timed out"));
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, HealthStatus::kUnhealthy);
  EXPECT_EQ(change->reason, "timed out");
  EXPECT_EQ(monitor.consecutive_failures(), 3);
}

TEST_F(HealthMonitorTest, SuccessThresholdDecidesTheWayBack) {
  HealthMonitor monitor = Make({.failure_threshold = 1, .success_threshold = 2});
  monitor.OnServiceStarted();
  monitor.Record(Fail());
  ASSERT_EQ(monitor.status(), HealthStatus::kUnhealthy);
  EXPECT_FALSE(monitor.Record(Ok()));
  EXPECT_EQ(monitor.status(), HealthStatus::kUnhealthy);
  EXPECT_TRUE(monitor.Record(Ok()));
  EXPECT_EQ(monitor.status(), HealthStatus::kHealthy);
}

TEST_F(HealthMonitorTest, FailuresInTheStartPeriodDoNotCount) {
  HealthMonitor monitor = Make({.failure_threshold = 2, .start_period = 10s});
  monitor.OnServiceStarted();
  for (int i = 0; i < 5; ++i) {
    clock_.AdvanceBy(1s);
    EXPECT_FALSE(monitor.Record(Fail()));
  }
  EXPECT_EQ(monitor.status(), HealthStatus::kStarting);
  EXPECT_EQ(monitor.failures_total(), 5);  // still recorded in the history
  clock_.AdvanceBy(6s);                    // past the start period
  EXPECT_FALSE(monitor.Record(Fail()));
  auto change = monitor.Record(Fail());
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, HealthStatus::kUnhealthy);
}

TEST_F(HealthMonitorTest, ASuccessEndsTheStartPeriodEarly) {
  HealthMonitor monitor = Make({.failure_threshold = 1, .start_period = 60s});
  monitor.OnServiceStarted();
  EXPECT_TRUE(monitor.InStartPeriod());
  monitor.Record(Ok());
  EXPECT_FALSE(monitor.InStartPeriod());
  auto change = monitor.Record(Fail());  // counts at once
  ASSERT_TRUE(change);
  EXPECT_EQ(change->to, HealthStatus::kUnhealthy);
}

TEST_F(HealthMonitorTest, HistoryIsBoundedAndGivesUptime) {
  HealthMonitor monitor = Make({.failure_threshold = 100, .history_size = 4});
  EXPECT_FALSE(monitor.HistoryUptimePercent());
  monitor.OnServiceStarted();
  for (bool ok : {false, false, true, true, true, false}) {
    monitor.Record(ok ? Ok() : Fail("x"));
  }
  ASSERT_EQ(monitor.history().size(), 4u);  // the oldest two are gone
  EXPECT_DOUBLE_EQ(*monitor.HistoryUptimePercent(), 75.0);
  ASSERT_TRUE(monitor.last_failure());
  EXPECT_EQ(monitor.last_failure()->reason, "x");
  EXPECT_EQ(monitor.checks_total(), 6);
}

TEST_F(HealthMonitorTest, UptimeSinceStartCountsTimeHealthy) {
  HealthMonitor monitor = Make({.failure_threshold = 1});
  monitor.OnServiceStarted();
  clock_.AdvanceBy(10s);  // starting: not healthy
  monitor.Record(Ok());
  clock_.AdvanceBy(30s);  // healthy
  monitor.Record(Fail());
  clock_.AdvanceBy(10s);  // unhealthy
  monitor.Record(Ok());
  clock_.AdvanceBy(50s);  // healthy
  EXPECT_DOUBLE_EQ(*monitor.UptimePercentSinceStart(), 80.0);
}

TEST_F(HealthMonitorTest, StoppingForgetsTheVerdict) {
  HealthMonitor monitor = Make({.failure_threshold = 1});
  monitor.OnServiceStarted();
  monitor.Record(Ok());
  monitor.OnServiceStopped();
  EXPECT_EQ(monitor.status(), HealthStatus::kUnknown);
  EXPECT_EQ(HealthStatusName(monitor.status()), "unknown");
}

}  // namespace
}  // namespace rebound::health
