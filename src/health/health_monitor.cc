#include "health/health_monitor.h"

#include <array>

namespace rebound::health {

std::string_view HealthStatusName(HealthStatus status) {
  static constexpr std::array<std::string_view, 4> kNames = {"unknown", "starting", "healthy",
                                                             "unhealthy"};
  return kNames[static_cast<size_t>(status)];
}

HealthMonitor::HealthMonitor(ProbeSpec spec, const Clock& clock)
    : spec_(std::move(spec)), clock_(clock) {}

void HealthMonitor::OnServiceStarted() {
  started_at_ = clock_.MonotonicNow();
  if (!first_started_) {
    first_started_ = started_at_;
  }
  start_period_over_ = spec_.start_period <= Duration::zero();
  consecutive_failures_ = 0;
  consecutive_successes_ = 0;
  SetStatus(HealthStatus::kStarting);
}

void HealthMonitor::OnServiceStopped() {
  consecutive_failures_ = 0;
  consecutive_successes_ = 0;
  SetStatus(HealthStatus::kUnknown);
}

bool HealthMonitor::InStartPeriod() const {
  return !start_period_over_ && clock_.MonotonicNow() - started_at_ < spec_.start_period;
}

std::optional<HealthChange> HealthMonitor::Record(const ProbeResult& result) {
  Remember(result);
  if (status_ == HealthStatus::kUnknown) {
    return std::nullopt;  // a late result for a process that is gone
  }
  return Decide(result);
}

void HealthMonitor::Remember(const ProbeResult& result) {
  ++checks_total_;
  HealthRecord record{clock_.WallNow(), result.ok, result.latency, result.reason};
  if (!result.ok) {
    ++failures_total_;
    last_failure_ = record;
  }
  history_.push_back(std::move(record));
  while (history_.size() > spec_.history_size) {
    history_.pop_front();
  }
}

std::optional<HealthChange> HealthMonitor::Decide(const ProbeResult& result) {
  const HealthStatus before = status_;
  if (result.ok) {
    start_period_over_ = true;
    consecutive_failures_ = 0;
    if (++consecutive_successes_ >= spec_.success_threshold) {
      SetStatus(HealthStatus::kHealthy);
    }
  } else {
    consecutive_successes_ = 0;
    // While starting, failures are expected: they count only once the start period is over.
    if (before != HealthStatus::kStarting || !InStartPeriod()) {
      if (++consecutive_failures_ >= spec_.failure_threshold) {
        SetStatus(HealthStatus::kUnhealthy);
      }
    }
  }
  if (status_ == before) {
    return std::nullopt;
  }
  return HealthChange{before, status_, result.ok ? "probe succeeded" : result.reason};
}

void HealthMonitor::SetStatus(HealthStatus status) {
  const MonoTime now = clock_.MonotonicNow();
  if (status == HealthStatus::kHealthy && !healthy_since_) {
    healthy_since_ = now;
  } else if (status != HealthStatus::kHealthy && healthy_since_) {
    healthy_time_ += now - *healthy_since_;
    healthy_since_.reset();
  }
  status_ = status;
}

std::optional<double> HealthMonitor::HistoryUptimePercent() const {
  if (history_.empty()) {
    return std::nullopt;
  }
  size_t good = 0;
  for (const HealthRecord& record : history_) {
    good += record.ok ? 1 : 0;
  }
  return 100.0 * static_cast<double>(good) / static_cast<double>(history_.size());
}

std::optional<double> HealthMonitor::UptimePercentSinceStart() const {
  if (!first_started_) {
    return std::nullopt;
  }
  const MonoTime now = clock_.MonotonicNow();
  const Duration total = now - *first_started_;
  if (total <= Duration::zero()) {
    return std::nullopt;
  }
  const Duration healthy = healthy_time_ + (healthy_since_ ? now - *healthy_since_ : Duration{});
  return 100.0 * ToSeconds(healthy) / ToSeconds(total);
}

}  // namespace rebound::health
