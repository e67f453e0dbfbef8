#include "health/service_probe.h"

#include "base/duration.h"

namespace rebound::health {

ServiceProbe::ServiceProbe(ProbeSpec spec, Prober& prober, Scheduler& scheduler,
                           const Clock& clock, ChangeListener on_change)
    : spec_(spec),
      prober_(prober),
      scheduler_(scheduler),
      clock_(clock),
      monitor_(std::move(spec), clock),
      on_change_(std::move(on_change)),
      watchdog_(spec_.watchdog) {}

ServiceProbe::~ServiceProbe() { CancelTimer(); }

bool ServiceProbe::IsActive() const {
  return spec_.type == ProbeType::kHttp || spec_.type == ProbeType::kTcp ||
         spec_.type == ProbeType::kExec;
}

// How long a passive probe waits for the service before counting a miss; 0: never.
Duration ServiceProbe::PassivePeriod() const {
  return spec_.type == ProbeType::kHeartbeat ? spec_.interval : watchdog_;
}

void ServiceProbe::OnServiceStarted(bool adopted) {
  CancelTimer();
  ++generation_;
  running_ = true;
  in_flight_ = false;
  watchdog_ = spec_.watchdog;
  ready_ = adopted;  // an adopted service told the earlier daemon already
  status_text_.clear();
  monitor_.OnServiceStarted();
  if (IsActive()) {
    ScheduleNext(spec_.interval);
  } else if (PassivePeriod() > Duration::zero()) {
    // The first beat may take the start period on top of one period.
    ArmDeadline(spec_.start_period + PassivePeriod());
  }
  if (adopted && spec_.type == ProbeType::kNotify) {
    Apply({.ok = true});
  }
}

void ServiceProbe::OnServiceStopped() {
  CancelTimer();
  ++generation_;
  running_ = false;
  in_flight_ = false;
  if (auto change = [&]() -> std::optional<HealthChange> {
        const HealthStatus before = monitor_.status();
        monitor_.OnServiceStopped();
        if (before == monitor_.status()) {
          return std::nullopt;
        }
        return HealthChange{before, monitor_.status(), "service not running"};
      }()) {
    on_change_(*change);
  }
}

void ServiceProbe::OnHeartbeat() {
  if (!running_ || spec_.type != ProbeType::kHeartbeat) {
    return;
  }
  Apply({.ok = true});
  ArmDeadline(PassivePeriod());
}

void ServiceProbe::OnNotify(const NotifyMessage& message) {
  if (message.status) {
    status_text_ = *message.status;
  }
  if (!running_ || spec_.type != ProbeType::kNotify) {
    return;
  }
  if (message.watchdog_usec) {
    watchdog_ = std::chrono::microseconds(*message.watchdog_usec);
  }
  if (message.watchdog_trigger) {
    Apply({.ok = false, .reason = "the service sent WATCHDOG=trigger"});
    return;
  }
  // READY=1 is the first success; after it, every WATCHDOG=1 is one more (so a
  // success_threshold above 1 is reached by pings).
  const bool ready_now = message.ready && !ready_;
  ready_ = ready_ || message.ready;
  if (ready_now || (message.watchdog && ready_)) {
    Apply({.ok = true});
  }
  if ((message.watchdog || message.watchdog_usec) && watchdog_ > Duration::zero()) {
    ArmDeadline(watchdog_);
  } else if (message.watchdog_usec) {
    CancelTimer();  // WATCHDOG_USEC=0 turns the watchdog off
  }
}

void ServiceProbe::ScheduleNext(Duration delay) {
  CancelTimer();
  timer_ = scheduler_.ScheduleAt(clock_.MonotonicNow() + delay, [this] {
    timer_.reset();
    OnTimer();
  });
}

void ServiceProbe::ArmDeadline(Duration delay) { ScheduleNext(delay); }

void ServiceProbe::OnTimer() {
  if (!running_) {
    return;
  }
  if (IsActive()) {
    RunActiveProbe();
    return;
  }
  const Duration period = PassivePeriod();
  Apply({.ok = false,
         .reason = spec_.type == ProbeType::kHeartbeat
                       ? "no heartbeat within " + FormatDuration(period)
                       : "no WATCHDOG=1 within " + FormatDuration(period)});
  ArmDeadline(period);  // every further silent period is another miss
}

void ServiceProbe::RunActiveProbe() {
  if (in_flight_) {
    ScheduleNext(spec_.interval);  // a slow probe still runs: never two at once
    return;
  }
  in_flight_ = true;
  const uint64_t generation = generation_;
  std::weak_ptr<bool> alive = alive_;
  prober_.Run(spec_, [this, generation, alive](ProbeResult result) {
    if (alive.expired() || generation != generation_) {
      return;  // the probe or the process it probed is gone
    }
    in_flight_ = false;
    Apply(result);
    ScheduleNext(spec_.interval);
  });
}

void ServiceProbe::Apply(const ProbeResult& result) {
  if (on_result_) {
    on_result_(result);
  }
  if (auto change = monitor_.Record(result)) {
    on_change_(*change);
  }
}

void ServiceProbe::CancelTimer() {
  if (timer_) {
    scheduler_.Cancel(*timer_);
    timer_.reset();
  }
}

}  // namespace rebound::health
