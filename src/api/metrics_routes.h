#pragma once

// GET /metrics (Prometheus text format) and the collectors that read state owned elsewhere
// at scrape time.
//
//   MetricsRegistry& registry = daemon.metrics();
//   RegisterServiceMetrics(registry, controller);        // rebound_service_up, ..._restarts
//   RegisterStoreMetrics(registry, store.writer());      // commit latency, writes
//   RegisterJobMetrics(registry, daemon.jobs());         // rebound_jobs{queue,state}, ...
//   RegisterMetricsRoute(server, registry);
//
// Metric names are API (docs/operations.md lists them). Registry, controller and writer
// must outlive the server's Stop().

#include "api/http_server.h"
#include "base/metrics.h"
#include "engine/reliability_controller.h"
#include "engine/service_controller.h"
#include "jobs/job_service.h"
#include "store/group_commit.h"

namespace rebound::api {

inline constexpr std::string_view kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";

void RegisterMetricsRoute(HttpServer& server, const MetricsRegistry& registry);

// rebound_service_up{service} (1 running, 0 not), rebound_service_restarts_total{service}.
void RegisterServiceMetrics(MetricsRegistry& registry, engine::ServiceController& controller);

// From GET /reliability, read once per metric at scrape time:
// rebound_service_healthy{service} (1 healthy, 0 not; services with a probe),
// rebound_breaker_state{service,state} (1 for the current state), rebound_breaker_trips_total,
// rebound_recovery_attempts_total, rebound_recovery_successes_total,
// rebound_recovery_exhausted_total {service}, rebound_mttr_seconds (mean time from failure
// detected to recovered). Probe latencies are observed by the engine as they happen.
void RegisterReliabilityMetrics(MetricsRegistry& registry,
                                engine::ReliabilityController& controller);

// rebound_store_commit_duration_seconds (histogram, observed on the writer thread),
// rebound_store_writes_total, rebound_store_commit_failures_total.
void RegisterStoreMetrics(MetricsRegistry& registry, store::GroupCommitWriter& writer);

// Durable jobs: rebound_jobs{queue,state} (jobs in the store, read at scrape time),
// rebound_jobs_submitted_total{queue}, rebound_jobs_completed_total{queue,outcome},
// rebound_job_attempts_total{queue}, rebound_job_duration_seconds{queue} (histogram of each
// attempt's run time). REQUIRES: before jobs.Recover() (it installs the jobs' observer).
void RegisterJobMetrics(MetricsRegistry& registry, jobs::JobService& jobs);

}  // namespace rebound::api
