// Reliability::View and Reliability::ReliabilityJson: what `rebound status`, /health and
// GET /reliability show of the probes, breakers and recoveries.

#include "engine/reliability.h"
#include "engine/reliability_service.h"

namespace rebound::engine {

HealthView Reliability::View(const std::string& name) const {
  const Service* service = Find(name);
  if (service == nullptr) {
    return {};
  }
  return {.health = service->probe
                        ? std::string(health::HealthStatusName(service->probe->status()))
                        : "none",
          .breaker = std::string(resilience::BreakerStateName(service->breaker->state())),
          .recovery = coordinator_.PhaseOf(name),
          .status_text = service->probe ? service->probe->status_text() : ""};
}

namespace {

nlohmann::json BreakerJson(const resilience::CircuitBreaker& breaker) {
  const resilience::BreakerMetrics metrics = breaker.Metrics();
  return {{"state", resilience::BreakerStateName(metrics.state)},
          {"calls", metrics.window.calls},
          {"failure_count", metrics.window.failures},
          {"success_count", metrics.window.calls - metrics.window.failures},
          {"failure_rate", metrics.window.FailureRate()},
          {"trips_total", metrics.trips_total},
          {"not_permitted_total", metrics.not_permitted_total}};
}

nlohmann::json MonitorJson(const health::ServiceProbe& probe) {
  const health::HealthMonitor& monitor = probe.monitor();
  nlohmann::json json = {
      {"status", health::HealthStatusName(monitor.status())},
      {"probe", health::ProbeTypeName(monitor.spec().type)},
      {"uptime_percentage", monitor.HistoryUptimePercent().value_or(0.0)},
      {"uptime_percentage_since_start", monitor.UptimePercentSinceStart().value_or(0.0)},
      {"checks_total", monitor.checks_total()},
      {"failures_total", monitor.failures_total()},
      {"consecutive_failures", monitor.consecutive_failures()},
      {"history_size", monitor.history().size()},
      {"last_latency_ms", nullptr},
      {"last_failure", nullptr},
      {"status_text", probe.status_text()}};
  if (!monitor.history().empty()) {
    json["last_latency_ms"] = ToSeconds(monitor.history().back().latency) * 1000.0;
  }
  if (const auto& failure = monitor.last_failure()) {
    json["last_failure"] = {{"at_ms", ToUnixMillis(failure->at)}, {"reason", failure->reason}};
  }
  return json;
}

}  // namespace

nlohmann::json Reliability::ReliabilityJson() const {
  nlohmann::json breakers = nlohmann::json::object();
  nlohmann::json recovery = nlohmann::json::object();
  nlohmann::json monitors = nlohmann::json::object();
  for (const auto& [name, service] : services_) {
    breakers[name] = BreakerJson(*service->breaker);
    recovery[name] = coordinator_.StatusJson(name);
    if (service->probe) {
      monitors[name] = MonitorJson(*service->probe);
    }
  }
  const auto mttr = coordinator_.MeanTimeToRecovery();
  return {{"circuit_breakers", std::move(breakers)},
          {"auto_recovery", std::move(recovery)},
          {"health_monitor", std::move(monitors)},
          {"mttr_seconds", mttr ? nlohmann::json(ToSeconds(*mttr)) : nlohmann::json(nullptr)},
          {"uptime_target", 99.9}};
}

}  // namespace rebound::engine
