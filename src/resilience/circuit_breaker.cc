#include "resilience/circuit_breaker.h"

#include <array>
#include <cstdio>

#include "base/duration.h"

namespace rebound::resilience {
namespace {

std::string Percent(double rate) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.0f%%", rate * 100.0);
  return text;
}

bool IsRate(double value) { return value > 0.0 && value <= 1.0; }

}  // namespace

std::string_view BreakerStateName(BreakerState state) {
  static constexpr std::array<std::string_view, 4> kNames = {"closed", "open", "half_open",
                                                             "forced_open"};
  return kNames[static_cast<size_t>(state)];
}

Status ValidateCircuitBreakerConfig(const CircuitBreakerConfig& config) {
  auto bad = [](std::string field, std::string why) {
    return ValidationError("circuit_breaker." + field + " " + why);
  };
  if (config.window_size < 1) {
    return bad("window_size",
               "must be at least 1 (got " + std::to_string(config.window_size) + ")");
  }
  if (config.window_kind == WindowKind::kTimeBased && config.window_size > 3600) {
    return bad("window_size", "of a time-based window must be at most 3600 seconds");
  }
  if (config.minimum_calls < 1) {
    return bad("minimum_calls",
               "must be at least 1 (got " + std::to_string(config.minimum_calls) + ")");
  }
  if (config.window_kind == WindowKind::kCountBased && config.minimum_calls > config.window_size) {
    return bad("minimum_calls", "must not exceed window_size (" +
                                    std::to_string(config.window_size) +
                                    ") of a count-based "
                                    "window, or the breaker could never open");
  }
  if (!IsRate(config.failure_rate_threshold)) {
    return bad("failure_rate_threshold",
               "must be in (0, 1] (got " + std::to_string(config.failure_rate_threshold) + ")");
  }
  if (!IsRate(config.slow_call_rate_threshold)) {
    return bad("slow_call_rate_threshold",
               "must be in (0, 1] (got " + std::to_string(config.slow_call_rate_threshold) + ")");
  }
  if (config.slow_call_duration < Duration::zero()) {
    return bad("slow_call_duration",
               "must not be negative (got " + FormatDuration(config.slow_call_duration) + ")");
  }
  if (config.open_duration < Duration::zero()) {
    return bad("open_duration",
               "must not be negative (got " + FormatDuration(config.open_duration) + ")");
  }
  if (config.half_open_calls < 1) {
    return bad("half_open_calls",
               "must be at least 1 (got " + std::to_string(config.half_open_calls) + ")");
  }
  return OkStatus();
}

Result<std::unique_ptr<CircuitBreaker>> CircuitBreaker::Create(std::string name,
                                                               CircuitBreakerConfig config,
                                                               const Clock& clock) {
  REBOUND_RETURN_IF_ERROR(ValidateCircuitBreakerConfig(config));
  return std::unique_ptr<CircuitBreaker>(
      new CircuitBreaker(std::move(name), std::move(config), clock));
}

CircuitBreaker::CircuitBreaker(std::string name, CircuitBreakerConfig config, const Clock& clock)
    : name_(std::move(name)),
      config_(std::move(config)),
      clock_(clock),
      tracks_slow_calls_(config_.slow_call_duration > Duration::zero()) {
  if (config_.window_kind == WindowKind::kCountBased) {
    count_window_ = std::make_unique<CountWindow>(config_.window_size);
  } else {
    time_window_ = std::make_unique<TimeWindow>(config_.window_size, clock_);
  }
}

WindowTotals CircuitBreaker::WindowTotalsNow() const {
  return count_window_ ? count_window_->Totals() : time_window_->Totals();
}

bool CircuitBreaker::ShouldOpen(const WindowTotals& totals, int64_t minimum_calls,
                                std::string* reason) const {
  if (totals.calls < minimum_calls) {
    return false;
  }
  if (totals.FailureRate() >= config_.failure_rate_threshold) {
    *reason = "failure rate " + Percent(totals.FailureRate()) + " of " +
              std::to_string(totals.calls) + " calls reached the threshold " +
              Percent(config_.failure_rate_threshold);
    return true;
  }
  if (tracks_slow_calls_ && totals.SlowRate() >= config_.slow_call_rate_threshold) {
    *reason = "slow-call rate " + Percent(totals.SlowRate()) + " of " +
              std::to_string(totals.calls) + " calls reached the threshold " +
              Percent(config_.slow_call_rate_threshold);
    return true;
  }
  return false;
}

void CircuitBreaker::RecordClosed(uint8_t outcome) {
  bool evaluate;
  if (count_window_) {
    count_window_->Record(outcome);
    // A success can only open the breaker by bringing the call count up to minimum_calls.
    evaluate =
        outcome != kOutcomeSuccess || (count_window_->MayHoldBadCalls() &&
                                       count_window_->Totals().calls <= config_.minimum_calls);
  } else {
    time_window_->Record(outcome);
    evaluate = outcome != kOutcomeSuccess || time_window_->MayHoldBadCalls();
  }
  if (!evaluate) {
    return;
  }
  std::string reason;
  if (ShouldOpen(WindowTotalsNow(), config_.minimum_calls, &reason)) {
    const BreakerState closed = BreakerState::kClosed;
    TransitionTo(&closed, BreakerState::kOpen, std::move(reason));
  }
}

void CircuitBreaker::RecordHalfOpen(uint8_t outcome) {
  if ((outcome & kOutcomeFailure) == kOutcomeFailure) {
    half_open_failures_.fetch_add(1, std::memory_order_relaxed);
  }
  if ((outcome & kOutcomeSlowBit) != 0) {
    half_open_slow_.fetch_add(1, std::memory_order_relaxed);
  }
  const int calls = half_open_calls_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (calls != config_.half_open_calls) {
    return;  // the verdict waits for the last probe call
  }
  const WindowTotals totals{calls, half_open_failures_.load(), half_open_slow_.load()};
  std::string reason;
  const BreakerState half_open = BreakerState::kHalfOpen;
  if (ShouldOpen(totals, calls, &reason)) {
    TransitionTo(&half_open, BreakerState::kOpen, "half-open probes failed: " + reason);
  } else {
    TransitionTo(&half_open, BreakerState::kClosed,
                 std::to_string(calls) + " half-open probe calls succeeded");
  }
}

bool CircuitBreaker::AcquireWhenNotClosed(BreakerState state) {
  if (state == BreakerState::kOpen &&
      clock_.MonotonicNow().time_since_epoch().count() >= open_until_nanos_.load()) {
    const BreakerState open = BreakerState::kOpen;
    TransitionTo(&open, BreakerState::kHalfOpen,
                 "open for " + FormatDuration(config_.open_duration) + ", probing");
    state = state_.load(std::memory_order_acquire);
  }
  if (state == BreakerState::kClosed) {
    return true;
  }
  if (state == BreakerState::kHalfOpen &&
      half_open_permits_.fetch_sub(1, std::memory_order_acq_rel) > 0) {
    return true;
  }
  not_permitted_total_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool CircuitBreaker::TransitionTo(const BreakerState* expected, BreakerState to,
                                  std::string reason) {
  BreakerTransition transition;
  {
    std::lock_guard lock(transition_mutex_);
    const BreakerState from = state_.load(std::memory_order_acquire);
    if (expected != nullptr && from != *expected) {
      return false;
    }
    const MonoTime now = clock_.MonotonicNow();
    switch (to) {
      case BreakerState::kOpen:
        open_until_nanos_.store((now + config_.open_duration).time_since_epoch().count());
        trips_total_.fetch_add(1, std::memory_order_relaxed);
        break;
      case BreakerState::kHalfOpen:
        half_open_permits_.store(config_.half_open_calls);
        half_open_calls_.store(0);
        half_open_failures_.store(0);
        half_open_slow_.store(0);
        break;
      case BreakerState::kClosed:
        count_window_ ? count_window_->Reset() : time_window_->Reset();
        break;
      case BreakerState::kForcedOpen:
        break;
    }
    state_.store(to, std::memory_order_release);
    transition = {from, to, std::move(reason), now};
  }
  if (listener_) {
    listener_(*this, transition);
  }
  return true;
}

void CircuitBreaker::Reset() { TransitionTo(nullptr, BreakerState::kClosed, "manual reset"); }

void CircuitBreaker::ForceOpen() {
  TransitionTo(nullptr, BreakerState::kForcedOpen, "forced open");
}

BreakerMetrics CircuitBreaker::Metrics() const {
  return {state(), WindowTotalsNow(), not_permitted_total_.load(), trips_total_.load()};
}

Error CircuitBreaker::RejectedError() const {
  return ResourceError("circuit breaker '" + name_ + "' is " +
                       std::string(BreakerStateName(state())) + "; call not permitted");
}

}  // namespace rebound::resilience
