#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/manual_clock.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

class CircuitBreakerTest : public ::testing::Test {
 protected:
  std::unique_ptr<CircuitBreaker> Make(CircuitBreakerConfig config) {
    auto breaker = CircuitBreaker::Create("model_server", std::move(config), clock_);
    EXPECT_TRUE(breaker.ok()) << breaker.error().ToString();
    (*breaker)->SetListener([this](const CircuitBreaker&, const BreakerTransition& t) {
      transitions_.push_back(std::string(BreakerStateName(t.from)) + "->" +
                             std::string(BreakerStateName(t.to)));
      reasons_.push_back(t.reason);
    });
    return std::move(*breaker);
  }

  void Calls(CircuitBreaker& breaker, int count, bool success, Duration elapsed = 0s) {
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(breaker.TryAcquirePermission());
      success ? breaker.OnSuccess(elapsed) : breaker.OnFailure(elapsed);
    }
  }

  ManualClock clock_;
  std::vector<std::string> transitions_;
  std::vector<std::string> reasons_;
};

TEST_F(CircuitBreakerTest, OpensAfterFiveConsecutiveFailures) {
  auto breaker = Make({.window_size = 5, .minimum_calls = 5, .failure_rate_threshold = 1.0});
  Calls(*breaker, 4, false);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  Calls(*breaker, 1, false);
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  EXPECT_FALSE(breaker->TryAcquirePermission());
  EXPECT_EQ(transitions_, std::vector<std::string>{"closed->open"});
  EXPECT_EQ(reasons_[0], "failure rate 100% of 5 calls reached the threshold 100%");
  EXPECT_EQ(breaker->Metrics().trips_total, 1);
  EXPECT_EQ(breaker->Metrics().not_permitted_total, 1);
}

TEST_F(CircuitBreakerTest, MinimumCallsRuleHoldsBackAVerdict) {
  auto breaker = Make({.window_size = 100, .minimum_calls = 10, .failure_rate_threshold = 0.5});
  Calls(*breaker, 9, false);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  // The tenth call, even a success, brings the window to the minimum: 90% >= 50%.
  Calls(*breaker, 1, true);
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, StaysClosedBelowTheFailureRate) {
  auto breaker = Make({.window_size = 10, .minimum_calls = 10, .failure_rate_threshold = 0.5});
  for (int i = 0; i < 100; ++i) {
    Calls(*breaker, 1, i % 3 != 0);  // 1 failure in 3: 33-40% in any window of 10
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_TRUE(transitions_.empty());
}

TEST_F(CircuitBreakerTest, OldFailuresLeaveTheCountWindow) {
  auto breaker = Make({.window_size = 4, .minimum_calls = 4, .failure_rate_threshold = 0.75});
  Calls(*breaker, 2, false);
  Calls(*breaker, 4, true);  // both failures evicted
  Calls(*breaker, 2, false);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);  // 2 of 4 = 50%
  Calls(*breaker, 1, false);
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);  // 3 of 4 = 75%
}

TEST_F(CircuitBreakerTest, HalfOpenAfterOpenDurationThenClosesOnGoodProbes) {
  auto breaker = Make({.window_size = 5,
                       .minimum_calls = 5,
                       .failure_rate_threshold = 1.0,
                       .open_duration = 30s,
                       .half_open_calls = 3});
  Calls(*breaker, 5, false);
  clock_.AdvanceBy(29s);
  EXPECT_FALSE(breaker->TryAcquirePermission());
  clock_.AdvanceBy(1s);
  // Exactly half_open_calls probes are let through.
  EXPECT_TRUE(breaker->TryAcquirePermission());
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker->TryAcquirePermission());
  EXPECT_TRUE(breaker->TryAcquirePermission());
  EXPECT_FALSE(breaker->TryAcquirePermission());
  breaker->OnSuccess();
  breaker->OnSuccess();
  EXPECT_EQ(breaker->state(), BreakerState::kHalfOpen);
  breaker->OnSuccess();
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_EQ(transitions_,
            (std::vector<std::string>{"closed->open", "open->half_open", "half_open->closed"}));
  EXPECT_EQ(breaker->Metrics().window.calls, 0);  // a fresh window after closing
}

TEST_F(CircuitBreakerTest, HalfOpenReopensWhenProbesFail) {
  auto breaker = Make({.window_size = 5,
                       .minimum_calls = 5,
                       .failure_rate_threshold = 0.5,
                       .open_duration = 10s,
                       .half_open_calls = 2});
  Calls(*breaker, 5, false);
  clock_.AdvanceBy(10s);
  ASSERT_TRUE(breaker->TryAcquirePermission());
  ASSERT_TRUE(breaker->TryAcquirePermission());
  breaker->OnSuccess();
  breaker->OnFailure();  // 1 of 2 = 50% >= 50%
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  EXPECT_EQ(breaker->Metrics().trips_total, 2);
  EXPECT_TRUE(reasons_.back().starts_with("half-open probes failed"));
  EXPECT_FALSE(breaker->TryAcquirePermission());  // a new open period started
  clock_.AdvanceBy(10s);
  EXPECT_TRUE(breaker->TryAcquirePermission());
}

TEST_F(CircuitBreakerTest, SlowCallsOpenTheBreaker) {
  auto breaker = Make({.window_size = 10,
                       .minimum_calls = 4,
                       .failure_rate_threshold = 1.0,
                       .slow_call_rate_threshold = 0.5,
                       .slow_call_duration = 2s});
  Calls(*breaker, 2, true, 100ms);
  Calls(*breaker, 1, true, 3s);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  Calls(*breaker, 1, true, 2s);  // 2 of 4 slow
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  EXPECT_TRUE(reasons_[0].starts_with("slow-call rate 50%"));
}

TEST_F(CircuitBreakerTest, SlowCallsIgnoredWhenNotTracked) {
  auto breaker = Make({.window_size = 4, .minimum_calls = 4, .slow_call_rate_threshold = 0.1});
  Calls(*breaker, 10, true, 1h);
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_EQ(breaker->Metrics().window.slow, 0);
}

TEST_F(CircuitBreakerTest, TimeWindowForgetsOldFailures) {
  auto breaker = Make({.window_kind = WindowKind::kTimeBased,
                       .window_size = 10,
                       .minimum_calls = 4,
                       .failure_rate_threshold = 0.5});
  Calls(*breaker, 1, false);
  Calls(*breaker, 1, true);
  clock_.AdvanceBy(10s);  // both calls age out
  Calls(*breaker, 3, true);
  Calls(*breaker, 1, false);  // 1 of 4 in the window
  Calls(*breaker, 1, false);  // 2 of 5
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  Calls(*breaker, 1, false);  // 3 of 6 = 50%
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, TimeWindowHalfOpenCycle) {
  auto breaker = Make({.window_kind = WindowKind::kTimeBased,
                       .window_size = 60,
                       .minimum_calls = 2,
                       .failure_rate_threshold = 0.5,
                       .open_duration = 5s,
                       .half_open_calls = 1});
  Calls(*breaker, 2, false);
  ASSERT_EQ(breaker->state(), BreakerState::kOpen);
  clock_.AdvanceBy(5s);
  ASSERT_TRUE(breaker->TryAcquirePermission());
  breaker->OnSuccess();
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_EQ(breaker->Metrics().window.calls, 0);
}

TEST_F(CircuitBreakerTest, ManualResetAndForceOpen) {
  auto breaker = Make({.window_size = 2, .minimum_calls = 2});
  breaker->ForceOpen();
  EXPECT_EQ(breaker->state(), BreakerState::kForcedOpen);
  clock_.AdvanceBy(24h);
  EXPECT_FALSE(breaker->TryAcquirePermission());  // forced open never probes
  breaker->Reset();
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_TRUE(breaker->TryAcquirePermission());
  Calls(*breaker, 2, false);
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
  breaker->Reset();
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
  EXPECT_EQ(breaker->Metrics().window.calls, 0);
  EXPECT_EQ(transitions_, (std::vector<std::string>{"closed->forced_open", "forced_open->closed",
                                                    "closed->open", "open->closed"}));
  EXPECT_EQ(breaker->Metrics().trips_total, 1);
}

TEST_F(CircuitBreakerTest, OutcomesOfCallsPermittedBeforeOpeningAreIgnored) {
  auto breaker = Make({.window_size = 2, .minimum_calls = 2, .half_open_calls = 1});
  ASSERT_TRUE(breaker->TryAcquirePermission());  // a slow call in flight
  Calls(*breaker, 2, false);
  ASSERT_EQ(breaker->state(), BreakerState::kOpen);
  breaker->OnSuccess();  // the in-flight call finally returns
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, CallRecordsResultsAndRejectsWithoutRunning) {
  auto breaker = Make({.window_size = 2, .minimum_calls = 2, .failure_rate_threshold = 1.0});
  int runs = 0;
  auto failing = [&]() -> Result<int> {
    ++runs;
    return NetworkError("connection refused");
  };
  EXPECT_FALSE(breaker->Call(failing).ok());
  EXPECT_FALSE(breaker->Call(failing).ok());
  ASSERT_EQ(breaker->state(), BreakerState::kOpen);
  Result<int> rejected = breaker->Call(failing);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(rejected.error().category(), ErrorCategory::kResource);
  EXPECT_EQ(rejected.error().message(),
            "circuit breaker 'model_server' is open; call not permitted");
}

TEST_F(CircuitBreakerTest, IsFailurePredicateExcludesCallerErrors) {
  auto breaker = Make({.window_size = 2,
                       .minimum_calls = 2,
                       .failure_rate_threshold = 1.0,
                       .is_failure = [](const Error& error) {
                         return error.category() != ErrorCategory::kValidation;
                       }});
  for (int i = 0; i < 5; ++i) {
    (void)breaker->Call([]() -> Result<int> { return ValidationError("bad prompt"); });
  }
  EXPECT_EQ(breaker->state(), BreakerState::kClosed);
}

TEST_F(CircuitBreakerTest, CallMeasuresDurationForSlowCalls) {
  auto breaker = Make({.window_size = 1,
                       .minimum_calls = 1,
                       .slow_call_rate_threshold = 1.0,
                       .slow_call_duration = 1s});
  (void)breaker->Call([&]() -> Result<int> {
    clock_.AdvanceBy(1500ms);
    return 1;
  });
  EXPECT_EQ(breaker->state(), BreakerState::kOpen);
}

TEST_F(CircuitBreakerTest, RejectsBadConfigNamingTheField) {
  const std::vector<std::pair<CircuitBreakerConfig, std::string>> cases = {
      {{.window_size = 0}, "circuit_breaker.window_size"},
      {{.minimum_calls = 0}, "circuit_breaker.minimum_calls"},
      {{.window_size = 5, .minimum_calls = 6}, "circuit_breaker.minimum_calls"},
      {{.failure_rate_threshold = 0.0}, "circuit_breaker.failure_rate_threshold"},
      {{.failure_rate_threshold = 1.5}, "circuit_breaker.failure_rate_threshold"},
      {{.slow_call_rate_threshold = -1}, "circuit_breaker.slow_call_rate_threshold"},
      {{.slow_call_duration = -1s}, "circuit_breaker.slow_call_duration"},
      {{.open_duration = -1s}, "circuit_breaker.open_duration"},
      {{.half_open_calls = 0}, "circuit_breaker.half_open_calls"},
      {{.window_kind = WindowKind::kTimeBased, .window_size = 7200}, "circuit_breaker.window_size"},
  };
  for (const auto& [config, field] : cases) {
    auto breaker = CircuitBreaker::Create("x", config, clock_);
    ASSERT_FALSE(breaker.ok()) << field;
    EXPECT_EQ(breaker.error().category(), ErrorCategory::kValidation);
    EXPECT_TRUE(breaker.error().message().starts_with(field)) << breaker.error().message();
  }
}

}  // namespace
}  // namespace rebound::resilience
