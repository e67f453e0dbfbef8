#include "engine/capture_throttle.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::engine {
namespace {

TEST(CaptureThrottleTest, AFlappingTriggerFiresOncePerIntervalAndCountsTheRest) {
  ManualClock clock;
  CaptureThrottle throttle(std::chrono::minutes(1));
  EXPECT_TRUE(throttle.Allow("before_recovery:api", clock.MonotonicNow()));
  for (int flap = 0; flap < 5; ++flap) {
    clock.AdvanceBy(std::chrono::seconds(10));
    EXPECT_FALSE(throttle.Allow("before_recovery:api", clock.MonotonicNow()));
  }
  EXPECT_EQ(throttle.suppressed(), 5);
  clock.AdvanceBy(std::chrono::seconds(10));  // 60 s after the first
  EXPECT_TRUE(throttle.Allow("before_recovery:api", clock.MonotonicNow()));
  EXPECT_FALSE(throttle.Allow("before_recovery:api", clock.MonotonicNow()));
}

TEST(CaptureThrottleTest, KeysAreThrottledSeparately) {
  ManualClock clock;
  CaptureThrottle throttle(std::chrono::minutes(1));
  EXPECT_TRUE(throttle.Allow("before_recovery:api", clock.MonotonicNow()));
  EXPECT_TRUE(throttle.Allow("before_recovery:db", clock.MonotonicNow()));
  EXPECT_TRUE(throttle.Allow("event:service.fatal", clock.MonotonicNow()));
  EXPECT_FALSE(throttle.Allow("before_recovery:db", clock.MonotonicNow()));
}

TEST(CaptureThrottleTest, AZeroIntervalNeverSuppresses) {
  ManualClock clock;
  CaptureThrottle throttle(Duration::zero());
  EXPECT_TRUE(throttle.Allow("k", clock.MonotonicNow()));
  EXPECT_TRUE(throttle.Allow("k", clock.MonotonicNow()));
  EXPECT_EQ(throttle.suppressed(), 0);
}

}  // namespace
}  // namespace rebound::engine
