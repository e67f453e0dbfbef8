#include "testing/manual_scheduler.h"

namespace rebound::testing {

TimerId ManualScheduler::ScheduleAt(MonoTime deadline, std::function<void()> callback) {
  const TimerId id = next_id_++;
  timers_.emplace(std::make_pair(deadline, id), std::move(callback));
  return id;
}

void ManualScheduler::Cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->first.second == id) {
      timers_.erase(it);
      return;
    }
  }
}

std::optional<MonoTime> ManualScheduler::NextDeadline() const {
  if (timers_.empty()) {
    return std::nullopt;
  }
  return timers_.begin()->first.first;
}

void ManualScheduler::RunDue() {
  while (!timers_.empty() && timers_.begin()->first.first <= clock_.MonotonicNow()) {
    auto callback = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    callback();
  }
}

void ManualScheduler::AdvanceBy(Duration duration) {
  const MonoTime target = clock_.MonotonicNow() + duration;
  // Step from deadline to deadline so callbacks see the time they were scheduled for.
  while (!timers_.empty() && timers_.begin()->first.first <= target) {
    const MonoTime due = timers_.begin()->first.first;
    if (due > clock_.MonotonicNow()) {
      clock_.AdvanceBy(due - clock_.MonotonicNow());
    }
    RunDue();
  }
  if (target > clock_.MonotonicNow()) {
    clock_.AdvanceBy(target - clock_.MonotonicNow());
  }
}

}  // namespace rebound::testing
