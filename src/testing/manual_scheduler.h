#pragma once

// ManualScheduler: timers driven by a ManualClock, for deterministic tests.
//
//   ManualClock clock;
//   ManualScheduler scheduler(clock);
//   scheduler.ScheduleAt(clock.MonotonicNow() + 1s, [&] { fired = true; });
//   scheduler.AdvanceBy(1s);   // moves the clock and fires what became due, in deadline
//                              // order (ties in creation order), including timers that
//                              // callbacks schedule within the advanced span
//
// Not thread-safe. The clock must outlive the scheduler.

#include <map>
#include <optional>
#include <utility>

#include "base/manual_clock.h"
#include "base/scheduler.h"

namespace rebound::testing {

class ManualScheduler final : public Scheduler {
 public:
  explicit ManualScheduler(ManualClock& clock) : clock_(clock) {}

  TimerId ScheduleAt(MonoTime deadline, std::function<void()> callback) override;
  void Cancel(TimerId id) override;

  void AdvanceBy(Duration duration);
  // Fires timers already due without moving the clock.
  void RunDue();
  size_t pending() const { return timers_.size(); }
  // The earliest pending deadline, if any.
  std::optional<MonoTime> NextDeadline() const;

 private:
  ManualClock& clock_;
  TimerId next_id_ = 1;
  std::map<std::pair<MonoTime, TimerId>, std::function<void()>> timers_;
};

}  // namespace rebound::testing
