#include "base/clock.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

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

// A waiter on a ManualClock times out when the clock passes its deadline, not before, and
// however little real time has passed.
TEST(ManualClockTest, WaitUntilTimesOutOnlyWhenAdvancedPastTheDeadline) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable condition;
  const MonoTime deadline = clock.MonotonicNow() + 10s;
  std::promise<bool> woke;
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    woke.set_value(clock.WaitUntil(lock, condition, deadline, [] { return false; }));
  });
  auto outcome = woke.get_future();
  clock.AwaitWaiters(1);
  clock.AdvanceBy(9s);
  clock.AwaitWaiters(1);  // woken by the advance, it looked again and sleeps on
  EXPECT_EQ(outcome.wait_for(0s), std::future_status::timeout);
  clock.AdvanceBy(1s);
  EXPECT_FALSE(outcome.get());
  waiter.join();
}

TEST(ManualClockTest, WaitUntilReturnsWhenTheConditionHoldsWithoutTheClockMoving) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable condition;
  bool ready = false;
  std::promise<bool> woke;
  std::thread waiter([&] {
    std::unique_lock lock(mutex);
    woke.set_value(
        clock.WaitUntil(lock, condition, clock.MonotonicNow() + 1s, [&] { return ready; }));
  });
  clock.AwaitWaiters(1);
  {
    std::lock_guard lock(mutex);
    ready = true;
  }
  condition.notify_all();
  EXPECT_TRUE(woke.get_future().get());
  waiter.join();
}

TEST(ManualClockTest, WaitUntilAPassedDeadlineOnlyChecksTheCondition) {
  ManualClock clock;
  std::mutex mutex;
  std::condition_variable condition;
  std::unique_lock lock(mutex);
  EXPECT_FALSE(clock.WaitUntil(lock, condition, clock.MonotonicNow(), [] { return false; }));
  EXPECT_TRUE(clock.WaitUntil(lock, condition, clock.MonotonicNow(), [] { return true; }));
  EXPECT_TRUE(lock.owns_lock());
}

TEST(SystemClockTest, WaitUntilAPassedDeadlineOnlyChecksTheCondition) {
  SystemClock clock;
  std::mutex mutex;
  std::condition_variable condition;
  std::unique_lock lock(mutex);
  const MonoTime past = clock.MonotonicNow() - 1s;
  EXPECT_FALSE(clock.WaitUntil(lock, condition, past, [] { return false; }));
  EXPECT_TRUE(clock.WaitUntil(lock, condition, past, [] { return true; }));
}

TEST(ClockTest, DeadlineAfterSaturatesInsteadOfOverflowing) {
  const MonoTime now = SystemClock().MonotonicNow();
  EXPECT_EQ(DeadlineAfter(now, 5s), now + 5s);
  EXPECT_EQ(DeadlineAfter(now, -5s), now);
  EXPECT_EQ(DeadlineAfter(now, Duration::max()), MonoTime::max());
}

TEST(ClockTest, ConversionsRoundTrip) {
  EXPECT_EQ(ToUnixMillis(FromUnixMillis(1'234'567)), 1'234'567);
  EXPECT_DOUBLE_EQ(ToSeconds(1500ms), 1.5);
}

}  // namespace
}  // namespace rebound
