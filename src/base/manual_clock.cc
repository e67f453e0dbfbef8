#include "base/manual_clock.h"

#include <cassert>

namespace rebound {
namespace {

constexpr int64_t kStartMonoNanos = 1'000'000'000'000;          // 1000 s
constexpr int64_t kStartWallNanos = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z

}  // namespace

ManualClock::ManualClock() : mono_nanos_(kStartMonoNanos), wall_nanos_(kStartWallNanos) {}

MonoTime ManualClock::MonotonicNow() const {
  return MonoTime(Duration(mono_nanos_.load(std::memory_order_acquire)));
}

WallTime ManualClock::WallNow() const {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      Duration(wall_nanos_.load(std::memory_order_acquire))));
}

void ManualClock::SleepFor(Duration duration) {
  if (duration > Duration::zero()) {
    slept_nanos_.fetch_add(duration.count());
    AdvanceBy(duration);
  }
}

void ManualClock::AdvanceBy(Duration duration) {
  assert(duration >= Duration::zero());
  mono_nanos_.fetch_add(duration.count(), std::memory_order_acq_rel);
  wall_nanos_.fetch_add(duration.count(), std::memory_order_acq_rel);
}

void ManualClock::SetWallTime(WallTime time) {
  wall_nanos_.store(std::chrono::duration_cast<Duration>(time.time_since_epoch()).count(),
                    std::memory_order_release);
}

Duration ManualClock::TotalSlept() const { return Duration(slept_nanos_.load()); }

}  // namespace rebound
