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
  registry.AddCollector(
      "rebound_store_commit_duration_seconds",
      "Time to commit one group of journal and state writes to disk (fsync included)",
      MetricType::kSummary, {}, [&writer] {
        const store::WriterStats stats = writer.stats();
        return std::vector<MetricSample>{
            {.label_values = {}, .value = ToSeconds(stats.commit_time_total), .suffix = "_sum"},
            {.label_values = {},
             .value = static_cast<double>(stats.transactions),
             .suffix = "_count"}};
      });
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
