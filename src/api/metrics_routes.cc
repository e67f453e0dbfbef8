#include "api/metrics_routes.h"

namespace rebound::api {

void RegisterMetricsRoute(HttpServer& server, const MetricsRegistry& registry) {
  server.Get("/metrics", [&registry](const HttpRequest&) {
    return TextResponse(200, registry.Render(), std::string(kPrometheusTextType));
  });
}

void RegisterServiceMetrics(MetricsRegistry& registry, engine::ServiceController& controller) {
  registry.AddCollector(
      "rebound_service_up", "1 when the service is running, 0 otherwise", MetricType::kGauge,
      {"service"}, [&controller] {
        std::vector<MetricSample> samples;
        for (const engine::ServiceStatus& service : controller.ListServices()) {
          samples.push_back({{service.name}, service.state == "running" ? 1.0 : 0.0});
        }
        return samples;
      });
  registry.AddCollector(
      "rebound_service_restarts_total", "Restarts of the service since the daemon started",
      MetricType::kCounter, {"service"}, [&controller] {
        std::vector<MetricSample> samples;
        for (const engine::ServiceStatus& service : controller.ListServices()) {
          samples.push_back({{service.name}, static_cast<double>(service.restarts)});
        }
        return samples;
      });
}

void RegisterStoreMetrics(MetricsRegistry& registry, store::GroupCommitWriter& writer) {
  Histogram& commit_seconds =
      registry
          .AddHistogram("rebound_store_commit_duration_seconds",
                        "Time to commit one group of journal and state writes to disk (fsync "
                        "included)",
                        {}, kLatencyBuckets)
          .WithLabels({});
  writer.AddCommitTimeObserver(
      [&commit_seconds](Duration elapsed) { commit_seconds.Observe(ToSeconds(elapsed)); });
  registry.AddCollector(
      "rebound_store_writes_total", "Writes (events, state updates, operations) committed",
      MetricType::kCounter, {}, [&writer] {
        return std::vector<MetricSample>{{{}, static_cast<double>(writer.stats().writes)}};
      });
  registry.AddCollector(
      "rebound_store_commit_failures_total", "Group commits that failed", MetricType::kCounter, {},
      [&writer] {
        return std::vector<MetricSample>{{{}, static_cast<double>(writer.stats().failed_commits)}};
      });
}

}  // namespace rebound::api
