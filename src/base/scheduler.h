#pragma once

// Scheduler: timers, for code that must act later without owning a thread or sleeping.
//
//   TimerId id = scheduler.ScheduleAt(clock.MonotonicNow() + backoff, [this] { Restart(); });
//   scheduler.Cancel(id);   // no-op if it already fired
//
// The daemon's reactor implements it (callbacks run on the reactor thread); tests use
// testing::ManualScheduler, which fires timers when the test advances a ManualClock.

#include <cstdint>
#include <functional>

#include "base/clock.h"

namespace rebound {

using TimerId = uint64_t;

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual TimerId ScheduleAt(MonoTime deadline, std::function<void()> callback) = 0;
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace rebound
