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

Clock& DefaultClock() {
  static SystemClock clock;
  return clock;
}

}  // namespace rebound
