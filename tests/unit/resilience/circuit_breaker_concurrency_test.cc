// Concurrent callers on one breaker. Meaningful under TSan (make test SANITIZE=thread) as well
// as for the invariants asserted here.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/manual_clock.h"
#include "resilience/circuit_breaker.h"
#include "resilience/sliding_window.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

constexpr int kThreads = 4;

template <typename Fn>
void RunThreads(Fn fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(fn, t);
  }
  for (auto& thread : threads) {
    thread.join();
  }
}

TEST(SlidingWindowConcurrencyTest, CountWindowTotalsAreExactAtQuiescence) {
  CountWindow window(64);  // small, so writers lap each other constantly
  RunThreads([&](int t) {
    for (int i = 0; i < 50'000; ++i) {
      const bool fail = (i + t) % 3 == 0;
      const bool slow = (i * 7 + t) % 5 == 0;
      window.Record((fail ? kOutcomeFailure : kOutcomeSuccess) | (slow ? kOutcomeSlowBit : 0));
    }
  });
  const WindowTotals totals = window.Totals();
  const WindowTotals recount = window.Recount();
  EXPECT_EQ(totals.calls, 64);
  EXPECT_EQ(totals.calls, recount.calls);
  EXPECT_EQ(totals.failures, recount.failures);
  EXPECT_EQ(totals.slow, recount.slow);
}

TEST(SlidingWindowConcurrencyTest, TimeWindowLosesNoCount) {
  ManualClock clock;
  TimeWindow window(10, clock);
  RunThreads([&](int) {
    for (int i = 0; i < 50'000; ++i) {
      window.Record(i % 10 == 0 ? kOutcomeFailure : kOutcomeSuccess);
    }
  });
  EXPECT_EQ(window.Totals().calls, kThreads * 50'000);
  EXPECT_EQ(window.Totals().failures, kThreads * 5'000);
}

TEST(CircuitBreakerConcurrencyTest, TripsExactlyOnceUnderConcurrentFailures) {
  ManualClock clock;
  auto breaker = *CircuitBreaker::Create(
      "db", {.window_size = 100, .minimum_calls = 100, .failure_rate_threshold = 0.5}, clock);
  std::atomic<int> opened{0};
  breaker->SetListener([&](const CircuitBreaker&, const BreakerTransition& t) {
    opened += t.to == BreakerState::kOpen ? 1 : 0;
  });
  std::atomic<int64_t> permitted{0};
  RunThreads([&](int) {
    for (int i = 0; i < 20'000; ++i) {
      if (breaker->TryAcquirePermission()) {
        ++permitted;
        breaker->OnFailure();
      }
    }
  });
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  EXPECT_EQ(opened.load(), 1);
  EXPECT_GE(permitted.load(), 100);
  EXPECT_EQ(permitted.load() + breaker->Metrics().not_permitted_total, kThreads * 20'000);
}

TEST(CircuitBreakerConcurrencyTest, HalfOpenGrantsExactlyThePermittedProbes) {
  ManualClock clock;
  auto breaker = *CircuitBreaker::Create(
      "db", {.window_size = 10, .minimum_calls = 10, .open_duration = 1s, .half_open_calls = 5},
      clock);
  breaker->ForceOpen();
  breaker->Reset();
  for (int i = 0; i < 10; ++i) {
    breaker->OnFailure();
  }
  ASSERT_EQ(breaker->state(), BreakerState::kOpen);
  clock.AdvanceBy(1s);
  std::atomic<int> granted{0};
  RunThreads([&](int) {
    for (int i = 0; i < 1000; ++i) {
      granted += breaker->TryAcquirePermission() ? 1 : 0;
    }
  });
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
  EXPECT_EQ(granted.load(), 5);
}

TEST(CircuitBreakerConcurrencyTest, MixedTrafficBelowThresholdNeverTrips) {
  ManualClock clock;
  auto breaker = *CircuitBreaker::Create(
      "api", {.window_size = 50, .minimum_calls = 10, .failure_rate_threshold = 0.9}, clock);
  RunThreads([&](int t) {
    for (int i = 0; i < 20'000; ++i) {
      ASSERT_TRUE(breaker->TryAcquirePermission());
      (i + t) % 4 == 0 ? breaker->OnFailure() : breaker->OnSuccess();
    }
  });
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  const WindowTotals totals = breaker->Metrics().window;
  EXPECT_EQ(totals.calls, 50);
}

}  // namespace
}  // namespace rebound::resilience
