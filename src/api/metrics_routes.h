#pragma once

// GET /metrics (Prometheus text format) and the collectors that read state owned elsewhere
// at scrape time.
//
//   MetricsRegistry& registry = daemon.metrics();
//   RegisterServiceMetrics(registry, controller);        // rebound_service_up, ..._restarts
//   RegisterStoreMetrics(registry, store.writer());      // commit latency, writes
//   RegisterMetricsRoute(server, registry);
//
// Metric names are API (docs/operations.md lists them). Registry, controller and writer
// must outlive the server's Stop().

#include "api/http_server.h"
#include "base/metrics.h"
#include "engine/service_controller.h"
#include "store/group_commit.h"

namespace rebound::api {

inline constexpr std::string_view kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";

void RegisterMetricsRoute(HttpServer& server, const MetricsRegistry& registry);

// rebound_service_up{service} (1 running, 0 not), rebound_service_restarts_total{service}.
void RegisterServiceMetrics(MetricsRegistry& registry, engine::ServiceController& controller);

// rebound_store_commit_duration_seconds (histogram, observed on the writer thread),
// rebound_store_writes_total, rebound_store_commit_failures_total.
void RegisterStoreMetrics(MetricsRegistry& registry, store::GroupCommitWriter& writer);

}  // namespace rebound::api
