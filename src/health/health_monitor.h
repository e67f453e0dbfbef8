#pragma once

// HealthMonitor: turns one service's probe results into a verdict (healthy or not), with
// the thresholds and start period of its ProbeSpec, and keeps the history and uptime that
// /reliability shows. Pure logic: probes run elsewhere and report here.
//
//   HealthMonitor monitor(spec, clock);
//   monitor.OnServiceStarted();                        // start period begins
//   if (auto change = monitor.Record({.ok = false, .reason = "connection refused"})) {
//     if (change->to == HealthStatus::kUnhealthy) TriggerRecovery();
//   }
//
// Verdicts: starting (running, no verdict yet) -> healthy after success_threshold
// consecutive successes; -> unhealthy after failure_threshold consecutive failures. Failures
// within the start period are recorded but not counted, unless the service was already
// healthy; a success during the start period ends it. Not running: unknown.
// Not thread-safe (the reactor owns it). The clock must outlive it.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "health/probe_spec.h"

namespace rebound::health {

enum class HealthStatus { kUnknown, kStarting, kHealthy, kUnhealthy };
// "unknown", "starting", "healthy", "unhealthy".
std::string_view HealthStatusName(HealthStatus status);

struct ProbeResult {
  bool ok = false;
  Duration latency = Duration::zero();
  std::string reason = {};  // why it failed; empty on success
};

struct HealthRecord {
  WallTime at;
  bool ok;
  Duration latency;
  std::string reason;
};

struct HealthChange {
  HealthStatus from;
  HealthStatus to;
  std::string reason;  // the result that decided it
};

class HealthMonitor {
 public:
  HealthMonitor(ProbeSpec spec, const Clock& clock);

  void OnServiceStarted();
  void OnServiceStopped();
  // The verdict changed because of this result, if it did.
  std::optional<HealthChange> Record(const ProbeResult& result);

  HealthStatus status() const { return status_; }
  bool InStartPeriod() const;
  const ProbeSpec& spec() const { return spec_; }
  const std::deque<HealthRecord>& history() const { return history_; }
  // Share of successful results in the history, in percent; nullopt with no history.
  std::optional<double> HistoryUptimePercent() const;
  // Share of time healthy since the service was first started, in percent.
  std::optional<double> UptimePercentSinceStart() const;
  const std::optional<HealthRecord>& last_failure() const { return last_failure_; }
  int consecutive_failures() const { return consecutive_failures_; }
  int consecutive_successes() const { return consecutive_successes_; }
  int64_t checks_total() const { return checks_total_; }
  int64_t failures_total() const { return failures_total_; }

 private:
  void SetStatus(HealthStatus status);
  void Remember(const ProbeResult& result);
  std::optional<HealthChange> Decide(const ProbeResult& result);

  ProbeSpec spec_;
  const Clock& clock_;
  HealthStatus status_ = HealthStatus::kUnknown;
  MonoTime started_at_{};
  bool start_period_over_ = false;
  int consecutive_failures_ = 0;
  int consecutive_successes_ = 0;
  int64_t checks_total_ = 0;
  int64_t failures_total_ = 0;
  std::deque<HealthRecord> history_;
  std::optional<HealthRecord> last_failure_;
  std::optional<MonoTime> first_started_;
  std::optional<MonoTime> healthy_since_;
  Duration healthy_time_ = Duration::zero();  // before healthy_since_
};

}  // namespace rebound::health
