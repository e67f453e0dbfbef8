#include "base/clock.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound {
namespace {

using namespace std::chrono_literals;

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  const MonoTime start = clock.MonotonicNow();
  const WallTime wall = clock.WallNow();
  EXPECT_EQ(clock.MonotonicNow(), start);
  clock.AdvanceBy(1500ms);
  EXPECT_EQ(clock.MonotonicNow() - start, 1500ms);
  EXPECT_EQ(clock.WallNow() - wall, 1500ms);
}

TEST(ManualClockTest, StartsAtAFixedNonZeroInstant) {
  ManualClock clock;
  EXPECT_EQ(ToUnixMillis(clock.WallNow()), 1'767'225'600'000);  // 2026-01-01T00:00:00Z
  EXPECT_GT(clock.MonotonicNow().time_since_epoch(), 0s);
}

TEST(ManualClockTest, SleepAdvancesInsteadOfBlocking) {
  ManualClock clock;
  const MonoTime start = clock.MonotonicNow();
  clock.SleepFor(5min);
  clock.SleepFor(-1s);  // negative sleeps are no-ops
  EXPECT_EQ(clock.MonotonicNow() - start, 5min);
  EXPECT_EQ(clock.TotalSlept(), 5min);
}

TEST(ManualClockTest, WallClockCanJumpWithoutMovingMonotonicTime) {
  ManualClock clock;
  const MonoTime start = clock.MonotonicNow();
  clock.SetWallTime(FromUnixMillis(0));
  EXPECT_EQ(ToUnixMillis(clock.WallNow()), 0);
  EXPECT_EQ(clock.MonotonicNow(), start);
}

TEST(SystemClockTest, MonotonicTimeNeverGoesBackwards) {
  SystemClock clock;
  MonoTime previous = clock.MonotonicNow();
  for (int i = 0; i < 1000; ++i) {
    const MonoTime now = clock.MonotonicNow();
    EXPECT_GE(now, previous);
    previous = now;
  }
  EXPECT_GT(ToUnixMillis(clock.WallNow()), 1'700'000'000'000);  // after 2023
}

TEST(ClockTest, ConversionsRoundTrip) {
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(1'234'567)), 1'234'567);
  EXPECT_DOUBLE_EQ(ToSeconds(1500ms), 1.5);
}

}  // namespace
}  // namespace rebound
