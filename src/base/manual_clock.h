#pragma once

// ManualClock: time that moves only when a test says so.
//
//   ManualClock clock;                       // starts at an arbitrary fixed instant
//   CircuitBreaker breaker(config, clock);
//   clock.AdvanceBy(std::chrono::seconds(30));
//
// SleepFor() advances the clock instead of blocking, so code that sleeps runs instantly
// and deterministically. WaitUntil() times out only when the clock is advanced past its
// deadline, so a test of a timeout waits for no real time:
//
//   std::thread follower([&] { events = journal.Follow({.after_seq = 1}, 5s); });
//   clock.AwaitWaiters(1);   // the follower is blocked on the clock
//   clock.AdvanceBy(5s);     // ...and now times out
//
// Thread-safe: readers, waiters and AdvanceBy may race. AdvanceBy takes each waiter's mutex
// to wake it: it must not be called with one of those held.

#include <atomic>
#include <vector>

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
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                 MonoTime deadline, const std::function<bool()>& ready) const override;

  // Moves both clocks forward and wakes every WaitUntil. REQUIRES: duration >= 0.
  void AdvanceBy(Duration duration);
  // Moves only the wall clock (to any value: tests of clock jumps); monotonic time stays.
  void SetWallTime(WallTime time);

  // Total time passed in SleepFor, so tests can assert what code would have waited.
  Duration TotalSlept() const;

  // Blocks until at least `count` threads are asleep in WaitUntil, each having checked its
  // condition and deadline since the last AdvanceBy: what the test asserts next cannot be
  // changed by a waiter that has yet to look at the clock.
  void AwaitWaiters(int count) const;

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* condition;
    bool asleep = false;  // guarded by *mutex
  };
  void WakeWaiters();
  void Register(Waiter* waiter) const;
  void Unregister(Waiter* waiter) const;

  std::atomic<int64_t> mono_nanos_;
  std::atomic<int64_t> wall_nanos_;
  std::atomic<int64_t> slept_nanos_{0};
  // Lock order: waiters_mutex_, then a waiter's mutex (WaitUntil never holds both).
  mutable std::mutex waiters_mutex_;
  mutable std::vector<Waiter*> waiters_;   // guarded by waiters_mutex_
  mutable std::atomic<int> asleep_count_{0};
};

}  // namespace rebound
