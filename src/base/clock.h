#pragma once

// Clock: the only way rebound code reads time or sleeps.
//
//   void Watchdog::Check(const Clock& clock) {
//     if (clock.MonotonicNow() - last_beat_ > timeout_) ...
//   }
//
// MonotonicNow() is for intervals and deadlines; WallNow() only for records and display.
// Production code takes a Clock& (SystemClock); tests pass a ManualClock and advance it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace rebound {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime MonotonicNow() const = 0;
  virtual WallTime WallNow() const = 0;
  // Blocks the calling thread for `duration` (a ManualClock advances itself instead).
  virtual void SleepFor(Duration duration) = 0;
  // Waits on `condition` as std::condition_variable::wait_until does, until `ready()` holds
  // or MonotonicNow() reaches `deadline`; returns ready(). The caller notifies `condition`
  // when what `ready` reads changes. This default waits in real time, for clocks that move
  // at its pace; a ManualClock wakes its waiters when a test advances it, so timeouts need
  // no real time in tests. REQUIRES: `lock` holds the mutex that guards what `ready` reads.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                         MonoTime deadline, const std::function<bool()>& ready) const;
};

// `now + timeout`, saturated at the far future (a timeout of Duration::max() never ends).
MonoTime DeadlineAfter(MonoTime now, Duration timeout);

// The real clocks (steady_clock and system_clock). Thread-safe; stateless.
class SystemClock final : public Clock {
 public:
  MonoTime MonotonicNow() const override;
  WallTime WallNow() const override;
  void SleepFor(Duration duration) override;
};

// A process-wide SystemClock for edges (main, adapters) that have no injected clock.
Clock& DefaultClock();

// Milliseconds since the Unix epoch, for records and JSON.
int64_t ToUnixMillis(WallTime time);
WallTime FromUnixMillis(int64_t millis);

// Seconds as a double, for display and metrics.
double ToSeconds(Duration duration);

}  // namespace rebound
