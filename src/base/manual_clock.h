#pragma once

// ManualClock: time that moves only when a test says so.
//
//   ManualClock clock;                       // starts at an arbitrary fixed instant
//   CircuitBreaker breaker(config, clock);
//   clock.AdvanceBy(std::chrono::seconds(30));
//
// SleepFor() advances the clock instead of blocking, so code that sleeps runs instantly
// and deterministically. Thread-safe: readers and AdvanceBy may race.

#include <atomic>

#include "base/clock.h"

namespace rebound {

class ManualClock final : public Clock {
 public:
  // Monotonic time starts at 1000 s and wall time at 2026-01-01T00:00:00Z, so that
  // "zero" never looks like a real reading.
  ManualClock();

  MonoTime MonotonicNow() const override;
  WallTime WallNow() const override;
  void SleepFor(Duration duration) override;

  // Moves both clocks forward. REQUIRES: duration >= 0.
  void AdvanceBy(Duration duration);
  // Moves only the wall clock (to any value: tests of clock jumps); monotonic time stays.
  void SetWallTime(WallTime time);

  // Total time passed in SleepFor, so tests can assert what code would have waited.
  Duration TotalSlept() const;

 private:
  std::atomic<int64_t> mono_nanos_;
  std::atomic<int64_t> wall_nanos_;
  std::atomic<int64_t> slept_nanos_{0};
};

}  // namespace rebound
