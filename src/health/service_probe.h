#pragma once

// ServiceProbe: watches one service's health while it runs. Active probes (http, tcp, exec)
// run every interval through a Prober, one at a time; passive ones wait for the service:
// heartbeat expects OnHeartbeat() at least every interval, notify expects READY=1 and, with a
// watchdog, WATCHDOG=1 at least every watchdog period. Each miss is a failed result; the
// HealthMonitor's thresholds turn results into verdicts, which go to the listener.
//
//   ServiceProbe probe(spec, prober, scheduler, clock, [&](const HealthChange& change) {
//     if (change.to == HealthStatus::kUnhealthy) recovery.Trigger(...);
//   });
//   probe.OnServiceStarted();   // the process runs: probing starts (first after an interval)
//   probe.OnServiceStopped();   // not running: probing stops, the verdict is unknown
//
// Detection bound: a service that stops answering is unhealthy within
// interval x failure_threshold (+ timeout for active probes).
// Not thread-safe: every call, timer and Prober result runs on the scheduler's thread (the
// daemon's prober posts results back to the reactor). Collaborators must outlive it; a
// result that arrives after it is destroyed is dropped.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/scheduler.h"
#include "health/health_monitor.h"
#include "health/notify_message.h"
#include "health/prober.h"

namespace rebound::health {

class ServiceProbe {
 public:
  using ChangeListener = std::function<void(const HealthChange&)>;

  ServiceProbe(ProbeSpec spec, Prober& prober, Scheduler& scheduler, const Clock& clock,
               ChangeListener on_change);
  ~ServiceProbe();
  ServiceProbe(const ServiceProbe&) = delete;
  ServiceProbe& operator=(const ServiceProbe&) = delete;

  // `adopted`: an instance an earlier daemon started; a notify service then counts as ready
  // (it sent READY=1 to that daemon), since it will not say so again.
  void OnServiceStarted(bool adopted = false);
  void OnServiceStopped();
  // Called with every result (before any verdict change), e.g. to feed a circuit breaker.
  void SetResultListener(std::function<void(const ProbeResult&)> listener) {
    on_result_ = std::move(listener);
  }
  // A heartbeat (POST /v1/heartbeat/NAME). Counts for heartbeat probes; ignored otherwise.
  void OnHeartbeat();
  // A datagram from the service's NOTIFY_SOCKET. Counts for notify probes.
  void OnNotify(const NotifyMessage& message);

  const HealthMonitor& monitor() const { return monitor_; }
  HealthStatus status() const { return monitor_.status(); }
  // The last STATUS= the service sent (notify), for display.
  const std::string& status_text() const { return status_text_; }
  bool running() const { return running_; }

 private:
  bool IsActive() const;
  Duration PassivePeriod() const;
  void ScheduleNext(Duration delay);
  void OnTimer();
  void RunActiveProbe();
  void ArmDeadline(Duration delay);
  void Apply(const ProbeResult& result);
  void CancelTimer();

  ProbeSpec spec_;
  Prober& prober_;
  Scheduler& scheduler_;
  const Clock& clock_;
  HealthMonitor monitor_;
  ChangeListener on_change_;
  std::function<void(const ProbeResult&)> on_result_;
  bool running_ = false;
  bool in_flight_ = false;
  bool ready_ = false;  // notify: READY=1 came
  uint64_t generation_ = 0;  // of the running process: results of an older one are dropped
  std::optional<TimerId> timer_;
  Duration watchdog_;  // notify: current watchdog period (WATCHDOG_USEC may change it)
  std::string status_text_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rebound::health
