#include "api/metrics_routes.h"

#include <functional>

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

namespace {

// One sample per service of `section` in GET /reliability, valued by `value`.
std::vector<MetricSample> PerService(engine::ReliabilityController& controller,
                                     const std::string& section,
                                     const std::function<double(const nlohmann::json&)>& value) {
  std::vector<MetricSample> samples;
  const nlohmann::json services =
      controller.ReliabilityStatus().value(section, nlohmann::json::object());
  for (const auto& [name, entry] : services.items()) {
    samples.push_back({{name}, value(entry)});
  }
  return samples;
}

void AddRecoveryCounter(MetricsRegistry& registry, engine::ReliabilityController& controller,
                        const std::string& name, const std::string& help,
                        const std::string& field) {
  registry.AddCollector(name, help, MetricType::kCounter, {"service"}, [&controller, field] {
    return PerService(controller, "auto_recovery",
                      [&](const nlohmann::json& r) { return r.value(field, 0.0); });
  });
}

}  // namespace

void RegisterReliabilityMetrics(MetricsRegistry& registry,
                                engine::ReliabilityController& controller) {
  registry.AddCollector(
      "rebound_service_healthy", "1 when the service's health check says healthy, 0 otherwise",
      MetricType::kGauge, {"service"}, [&controller] {
        return PerService(controller, "health_monitor", [](const nlohmann::json& m) {
          return m.value("status", "") == "healthy" ? 1.0 : 0.0;
        });
      });
  registry.AddCollector(
      "rebound_breaker_state", "1 for the circuit breaker's current state", MetricType::kGauge,
      {"service", "state"}, [&controller] {
        std::vector<MetricSample> samples;
        const nlohmann::json status = controller.ReliabilityStatus();
        for (const auto& [name, breaker] : status["circuit_breakers"].items()) {
          for (const char* state : {"closed", "open", "half_open", "forced_open"}) {
            samples.push_back({{name, state}, breaker.value("state", "") == state ? 1.0 : 0.0});
          }
        }
        return samples;
      });
  registry.AddCollector(
      "rebound_breaker_trips_total", "Times the circuit breaker opened", MetricType::kCounter,
      {"service"}, [&controller] {
        return PerService(controller, "circuit_breakers",
                          [](const nlohmann::json& b) { return b.value("trips_total", 0.0); });
      });
  AddRecoveryCounter(registry, controller, "rebound_recovery_attempts_total",
                     "Recovery attempts started", "attempts_total");
  AddRecoveryCounter(registry, controller, "rebound_recovery_successes_total",
                     "Recovery cycles that ended with the service healthy", "successes_total");
  AddRecoveryCounter(registry, controller, "rebound_recovery_exhausted_total",
                     "Recovery cycles that gave up (needs manual intervention)",
                     "exhausted_total");
  registry.AddCollector(
      "rebound_mttr_seconds", "Mean time from a failure detected to the service recovered",
      MetricType::kGauge, {}, [&controller] {
        const nlohmann::json mttr = controller.ReliabilityStatus()["mttr_seconds"];
        return mttr.is_number() ? std::vector<MetricSample>{{{}, mttr.get<double>()}}
                                : std::vector<MetricSample>{};  // unknown before a recovery
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

namespace {

// Attempts run from milliseconds (a /bin/true) to hours (a nightly import).
const std::vector<double> kJobDurationBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,
                                                 10,   30,   60,  120,  300, 600, 1800, 3600};
constexpr const char* kJobOutcomes[] = {"succeeded", "failed", "exhausted", "cancelled",
                                        "interrupted"};

// Counters and the histogram, updated as jobs move (JobObserver), with a series for every
// configured queue from the start so that rate() sees the first increment.
void AddJobEventMetrics(MetricsRegistry& registry, jobs::JobService& jobs) {
  CounterFamily& submitted =
      registry.AddCounter("rebound_jobs_submitted_total",
                          "Jobs created by a submit (not idempotent resubmits)", {"queue"});
  CounterFamily& completed =
      registry.AddCounter("rebound_jobs_completed_total",
                          "Jobs that reached a final state, by that state", {"queue", "outcome"});
  CounterFamily& attempts =
      registry.AddCounter("rebound_job_attempts_total", "Job attempts launched", {"queue"});
  HistogramFamily& duration = registry.AddHistogram("rebound_job_duration_seconds",
                                                    "Run time of each job attempt, launch to exit",
                                                    {"queue"}, kJobDurationBuckets);
  for (const std::string& queue : jobs.QueueNames()) {
    submitted.WithLabels({queue});
    attempts.WithLabels({queue});
    duration.WithLabels({queue});
    for (const char* outcome : kJobOutcomes) {
      completed.WithLabels({queue, outcome});
    }
  }
  jobs.SetObserver(jobs::JobObserver{
      .submitted =
          [&submitted](const jobs::JobRecord& job) {
            submitted.WithLabels({job.spec.queue}).Increment();
          },
      .attempt_started =
          [&attempts](const jobs::JobRecord& job) {
            attempts.WithLabels({job.spec.queue}).Increment();
          },
      .attempt_ended =
          [&duration](const jobs::JobRecord& job, Duration ran) {
            duration.WithLabels({job.spec.queue}).Observe(ToSeconds(ran));
          },
      .ended =
          [&completed](const jobs::JobRecord& job) {
            completed.WithLabels({job.spec.queue, std::string(jobs::JobStateName(job.state))})
                .Increment();
          }});
}

}  // namespace

void RegisterJobMetrics(MetricsRegistry& registry, jobs::JobService& jobs) {
  registry.AddCollector(
      "rebound_jobs", "Jobs in the store by queue and state (ended ones until [jobs] retention)",
      MetricType::kGauge, {"queue", "state"}, [&jobs] {
        std::vector<MetricSample> samples;
        auto summary = jobs.Summary();
        if (!summary.ok()) {
          return samples;  // the store is unreadable: no sample rather than a wrong zero
        }
        for (const auto& [queue, states] : summary->by_queue) {
          for (const auto& [state, count] : states) {
            samples.push_back({{queue, state}, static_cast<double>(count)});
          }
        }
        return samples;
      });
  AddJobEventMetrics(registry, jobs);
}

}  // namespace rebound::api
