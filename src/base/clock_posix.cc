#include <thread>

#include "base/clock.h"

namespace rebound {

MonoTime SystemClock::MonotonicNow() const { return std::chrono::steady_clock::now(); }

WallTime SystemClock::WallNow() const { return std::chrono::system_clock::now(); }

void SystemClock::SleepFor(Duration duration) {
  if (duration > Duration::zero()) {
    std::this_thread::sleep_for(duration);
  }
}

bool Clock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& condition,
                      MonoTime deadline, const std::function<bool()>& ready) const {
  // Translated to steady_clock, so that a clock at the same pace but another origin works.
  const Duration left = deadline - MonotonicNow();
  return condition.wait_until(lock, DeadlineAfter(std::chrono::steady_clock::now(), left), ready);
}

Clock& DefaultClock() {
  static SystemClock clock;
  return clock;
}

}  // namespace rebound
