#include "base/manual_clock.h"

#include <algorithm>
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
  WakeWaiters();
}

void ManualClock::WakeWaiters() {
  std::lock_guard registry(waiters_mutex_);
  for (Waiter* waiter : waiters_) {
    // Under the waiter's mutex: it is either asleep (and woken here) or has yet to read the
    // clock, which it does after this advance.
    std::lock_guard lock(*waiter->mutex);
    if (waiter->asleep) {
      waiter->asleep = false;
      asleep_count_.fetch_sub(1);
    }
    waiter->condition->notify_all();
  }
}

bool ManualClock::WaitUntil(std::unique_lock<std::mutex>& lock,
                            std::condition_variable& condition, MonoTime deadline,
                            const std::function<bool()>& ready) const {
  Waiter waiter{lock.mutex(), &condition};
  // The caller's mutex is released around (un)registering, to keep the lock order; `ready`
  // is read again after, so nothing that changed meanwhile is missed.
  lock.unlock();
  Register(&waiter);
  lock.lock();
  while (!ready() && MonotonicNow() < deadline) {
    waiter.asleep = true;
    asleep_count_.fetch_add(1);
    asleep_count_.notify_all();
    condition.wait(lock);
    if (waiter.asleep) {  // woken by the caller's notify (or spuriously), not by AdvanceBy
      waiter.asleep = false;
      asleep_count_.fetch_sub(1);
    }
  }
  const bool is_ready = ready();
  lock.unlock();
  Unregister(&waiter);
  lock.lock();
  return is_ready || ready();
}

void ManualClock::Register(Waiter* waiter) const {
  std::lock_guard registry(waiters_mutex_);
  waiters_.push_back(waiter);
}

void ManualClock::Unregister(Waiter* waiter) const {
  std::lock_guard registry(waiters_mutex_);
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), waiter));
}

void ManualClock::AwaitWaiters(int count) const {
  for (int asleep = asleep_count_.load(); asleep < count; asleep = asleep_count_.load()) {
    asleep_count_.wait(asleep);
  }
}

void ManualClock::SetWallTime(WallTime time) {
  wall_nanos_.store(std::chrono::duration_cast<Duration>(time.time_since_epoch()).count(),
                    std::memory_order_release);
}

Duration ManualClock::TotalSlept() const { return Duration(slept_nanos_.load()); }

}  // namespace rebound
