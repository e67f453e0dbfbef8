#pragma once

// CircuitBreaker: stops calling a dependency that keeps failing, and probes it before
// trusting it again. closed -> (failure or slow-call rate over threshold) -> open ->
// (open_duration passed) -> half-open -> (probe calls good) -> closed, or back to open.
//
//   auto breaker = CircuitBreaker::Create("model_server", {.failure_rate_threshold = 0.5},
//                                         clock);
//   Result<Reply> reply = (*breaker)->Call([&] { return client.Infer(prompt); });
//   // or by hand, when the call is asynchronous:
//   if (!breaker->TryAcquirePermission()) return Rejected();
//   ... later: breaker->OnSuccess(elapsed) or breaker->OnFailure(elapsed);
//
// Thread-safe. In the closed state TryAcquirePermission/OnSuccess/OnFailure take no lock and
// allocate nothing (a few atomic operations on the sliding window); state changes take a
// mutex. Failures are values (Result), never exceptions. The clock must outlive the breaker.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/clock.h"
#include "base/error.h"
#include "resilience/sliding_window.h"

namespace rebound::resilience {

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen, kForcedOpen };
// "closed", "open", "half_open", "forced_open".
std::string_view BreakerStateName(BreakerState state);

enum class WindowKind { kCountBased, kTimeBased };

struct CircuitBreakerConfig {
  WindowKind window_kind = WindowKind::kCountBased;
  int window_size = 100;                  // calls (count-based) or seconds (time-based)
  int minimum_calls = 10;                 // no verdict on fewer calls than this in the window
  double failure_rate_threshold = 0.5;    // (0, 1]: open at or above this failure rate
  double slow_call_rate_threshold = 1.0;  // (0, 1]: open at or above this slow-call rate
  Duration slow_call_duration{0};         // a call at least this long is slow; 0: not tracked
  Duration open_duration = std::chrono::seconds(60);  // open -> half-open after this
  int half_open_calls = 10;                           // probe calls permitted in half-open
  // Which errors count as failures of the dependency (default: all). Validation errors,
  // for instance, may be the caller's fault rather than the dependency's.
  std::function<bool(const Error&)> is_failure = {};
};

Status ValidateCircuitBreakerConfig(const CircuitBreakerConfig& config);

struct BreakerTransition {
  BreakerState from;
  BreakerState to;
  std::string reason;
  MonoTime at;
};

struct BreakerMetrics {
  BreakerState state;
  WindowTotals window;
  int64_t not_permitted_total;
  int64_t trips_total;  // transitions into open (not forced_open)
};

class CircuitBreaker {
 public:
  using Listener = std::function<void(const CircuitBreaker&, const BreakerTransition&)>;

  static Result<std::unique_ptr<CircuitBreaker>> Create(std::string name,
                                                        CircuitBreakerConfig config,
                                                        const Clock& clock);

  // Called after every state change, on the thread that caused it, outside the breaker's
  // lock. REQUIRES: set before the breaker is shared between threads.
  void SetListener(Listener listener) { listener_ = std::move(listener); }

  bool TryAcquirePermission() {
    const BreakerState state = state_.load(std::memory_order_acquire);
    if (state == BreakerState::kClosed) [[likely]] {
      return true;
    }
    return AcquireWhenNotClosed(state);
  }
  void OnSuccess(Duration elapsed = Duration::zero()) {
    Record(IsSlow(elapsed) ? kOutcomeSuccess | kOutcomeSlowBit : kOutcomeSuccess);
  }
  void OnFailure(Duration elapsed = Duration::zero()) {
    Record(IsSlow(elapsed) ? kOutcomeFailure | kOutcomeSlowBit : kOutcomeFailure);
  }

  // Runs `fn` (returning Result<T>) if permitted and records its outcome; a rejected call
  // returns a resource Error without running fn.
  template <typename Fn>
  auto Call(Fn&& fn) -> std::invoke_result_t<Fn&> {
    if (!TryAcquirePermission()) {
      return RejectedError();
    }
    const MonoTime start = tracks_slow_calls_ ? clock_.MonotonicNow() : MonoTime();
    auto result = fn();
    const Duration elapsed = tracks_slow_calls_ ? clock_.MonotonicNow() - start : Duration::zero();
    if (result.ok() || !CountsAsFailure(result.error())) {
      OnSuccess(elapsed);
    } else {
      OnFailure(elapsed);
    }
    return result;
  }

  // Manual controls: back to closed with an empty window; or open until Reset().
  void Reset();
  void ForceOpen();

  BreakerState state() const { return state_.load(std::memory_order_acquire); }
  BreakerMetrics Metrics() const;
  const std::string& name() const { return name_; }
  const CircuitBreakerConfig& config() const { return config_; }
  // When an open breaker lets probe calls through (meaningful in the open state).
  MonoTime OpenUntil() const { return MonoTime(Duration(open_until_nanos_.load())); }

 private:
  CircuitBreaker(std::string name, CircuitBreakerConfig config, const Clock& clock);

  bool IsSlow(Duration elapsed) const {
    return tracks_slow_calls_ && elapsed >= config_.slow_call_duration;
  }
  bool CountsAsFailure(const Error& error) const {
    return !config_.is_failure || config_.is_failure(error);
  }
  void Record(uint8_t outcome) {
    const BreakerState state = state_.load(std::memory_order_acquire);
    if (state == BreakerState::kClosed) [[likely]] {
      RecordClosed(outcome);
    } else if (state == BreakerState::kHalfOpen) {
      RecordHalfOpen(outcome);
    }
    // Open: the outcome of a call permitted before the breaker opened; it changes nothing.
  }
  void RecordClosed(uint8_t outcome);
  void RecordHalfOpen(uint8_t outcome);
  bool AcquireWhenNotClosed(BreakerState state);
  WindowTotals WindowTotalsNow() const;
  bool ShouldOpen(const WindowTotals& totals, int64_t minimum_calls, std::string* reason) const;
  // Moves from `expected` (any state when null) to `to`; false if another thread moved first.
  bool TransitionTo(const BreakerState* expected, BreakerState to, std::string reason);
  Error RejectedError() const;

  const std::string name_;
  const CircuitBreakerConfig config_;
  const Clock& clock_;
  const bool tracks_slow_calls_;
  std::unique_ptr<CountWindow> count_window_;  // exactly one of the two windows is set
  std::unique_ptr<TimeWindow> time_window_;

  alignas(64) std::atomic<BreakerState> state_{BreakerState::kClosed};
  std::atomic<int64_t> open_until_nanos_{0};
  std::atomic<int> half_open_permits_{0};
  std::atomic<int> half_open_calls_{0};
  std::atomic<int> half_open_failures_{0};
  std::atomic<int> half_open_slow_{0};
  std::atomic<int64_t> not_permitted_total_{0};
  std::atomic<int64_t> trips_total_{0};

  std::mutex transition_mutex_;  // serializes state changes; never held on the fast path
  Listener listener_;
};

}  // namespace rebound::resilience
