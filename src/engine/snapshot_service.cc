#include "engine/snapshot_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/path.h"
#include "jobs/job_queue.h"
#include "jobs/job_store.h"
#include "resilience/retry_policy.h"

namespace rebound::engine {
namespace {

// How often a recovery looks at the services it started while it waits for them.
constexpr Duration kVerifyPollInterval = std::chrono::milliseconds(100);

}  // namespace

std::map<std::string, snapshot::ServiceRecord> SnapshotService::Records(
    const std::vector<ServiceStatus>& statuses) {
  std::map<std::string, snapshot::ServiceRecord> records;
  for (const ServiceStatus& status : statuses) {
    records[status.name] = {.state = status.state,
                            .restarts = status.restarts,
                            .health = status.health,
                            .breaker = status.breaker};
  }
  return records;
}

namespace {

// system_status.jobs. A daemon's capture reads the counts its job store keeps as it commits
// (UseJobCounts); without a daemon, the jobs table is counted, which is the truth with or
// without one (an offline capture records the queues as the last daemon left them).
// Configured queues show even when empty. A read error leaves jobs out of the document
// rather than failing the capture.
std::function<std::optional<snapshot::JobsRecord>()> JobsStatusReader(
    const Config& config, store::Store& store,
    std::shared_ptr<SnapshotService::LiveJobCounts> live) {
  return [&store, live,
          queues = jobs::JobQueues(config.queues).Names()]() -> std::optional<snapshot::JobsRecord> {
    std::optional<jobs::JobsSummary> counted;
    {
      std::lock_guard lock(live->mutex);
      if (live->counts) {
        counted = live->counts->Summary();
      }
    }
    Result<jobs::JobsSummary> summary =
        counted ? Result<jobs::JobsSummary>(*std::move(counted)) : jobs::CountJobs(store.database());
    if (!summary.ok()) {
      spdlog::warn("snapshot: jobs not recorded: {}", summary.error().message());
      return std::nullopt;
    }
    jobs::IncludeQueues(*summary, queues);
    return snapshot::JobsRecord{.by_state = summary->by_state,
                                .queues = jobs::QueueBacklogs(*summary)};
  };
}

}  // namespace

Result<std::unique_ptr<SnapshotService>> SnapshotService::Open(const Config& config,
                                                               store::Store& store,
                                                               ServiceController* services,
                                                               Clock& clock,
                                                               snapshot::EndpointTransport* transport) {
  const std::string& data_dir = config.daemon.data_dir;
  // The caller holds the data directory's lock: no other writer can be mid-commit.
  auto git = snapshot::GitStore::Open(
      SnapshotRepositoryPath(config.snapshots, data_dir),
      {.remove_stale_locks = true, .document_path = config.snapshots.document_path});
  if (!git.ok()) {
    return git.error();
  }
  for (const std::string& lock : (*git)->removed_locks()) {
    spdlog::warn("snapshots: removed {} left by a writer that died mid-commit", lock);
  }
  snapshot::SnapshotterOptions options{.document_path = JoinPath(data_dir, "recovery.json"),
                                       .redact_patterns = config.snapshots.redact,
                                       .modules = config.snapshots.modules,
                                       .transport = transport != nullptr
                                                        ? transport
                                                        : &snapshot::DefaultEndpointTransport()};
  auto live_jobs = std::make_shared<LiveJobCounts>();
  options.jobs_status = JobsStatusReader(config, store, live_jobs);
  std::unique_ptr<SnapshotService> service(
      new SnapshotService(store, services, std::move(*git), clock, std::move(options),
                          config.snapshots.remote, config.start_order,
                          config.snapshots.verify_timeout));
  service->keep_ = config.snapshots.keep;
  service->live_jobs_ = std::move(live_jobs);
  return service;
}

SnapshotService::SnapshotService(store::Store& store, ServiceController* services,
                                 std::unique_ptr<snapshot::GitStore> git, Clock& clock,
                                 snapshot::SnapshotterOptions options, std::string remote,
                                 std::vector<std::string> start_order, Duration verify_timeout)
    : store_(store),
      services_(services),
      git_(std::move(git)),
      snapshotter_(*git_, store.states(), DefaultFileSystem(), clock, std::move(options)),
      clock_(clock),
      remote_(std::move(remote)),
      start_order_(std::move(start_order)),
      verify_timeout_(verify_timeout) {}

void SnapshotService::UseJobCounts(std::shared_ptr<const jobs::JobCounts> counts) {
  std::lock_guard lock(live_jobs_->mutex);
  live_jobs_->counts = std::move(counts);
}

Result<nlohmann::json> SnapshotService::ListSnapshots() {
  auto summaries = snapshotter_.List();
  if (!summaries.ok()) {
    return summaries.error();
  }
  nlohmann::json list = nlohmann::json::array();
  for (const snapshot::SnapshotSummary& summary : *summaries) {
    list.push_back(snapshot::SnapshotSummaryToJson(summary));
  }
  return nlohmann::json{{"snapshots", list}, {"repository", git_->path()}};
}

Result<nlohmann::json> SnapshotService::CaptureSnapshot(const std::string& message) {
  std::lock_guard lock(mutex_);
  auto taken = CaptureLocked(std::nullopt, message);
  if (!taken.ok()) {
    return taken.error();
  }
  nlohmann::json answer = snapshot::CaptureResultToJson(*taken);
  PushTo(answer);
  ApplyRetention(answer);
  return answer;
}

Result<nlohmann::json> SnapshotService::CaptureWith(
    std::map<std::string, snapshot::ServiceRecord> services, const std::string& message) {
  std::lock_guard lock(mutex_);
  auto taken = CaptureLocked(std::move(services), message);
  if (!taken.ok()) {
    return taken.error();
  }
  nlohmann::json answer = snapshot::CaptureResultToJson(*taken);
  PushTo(answer);
  ApplyRetention(answer);
  return answer;
}

void SnapshotService::PushTo(nlohmann::json& answer) {
  if (remote_.empty()) {
    return;
  }
  static const resilience::RetryPolicy kPolicy = *resilience::RetryPolicy::Create(
      {.max_attempts = 4,
       .max_elapsed = std::chrono::seconds(10),
       .backoff = {.initial = std::chrono::milliseconds(200), .max = std::chrono::seconds(2)}});
  Status pushed = resilience::Retry(kPolicy, clock_, random_, [&] { return git_->Push(remote_); });
  answer["pushed"] = pushed.ok();
  if (!pushed.ok()) {
    answer["push_error"] = pushed.error().message();
    spdlog::warn("snapshot {} not pushed to {}: {}", answer.value("commit", ""), remote_,
                 pushed.error().message());
  }
}

Result<snapshot::CaptureResult> SnapshotService::CaptureLocked(
    std::optional<std::map<std::string, snapshot::ServiceRecord>> services,
    const std::string& message, bool enforce_required) {
  if (!services && services_ != nullptr) {
    services = Records(services_->ListServices());
  }
  auto taken =
      snapshotter_.Capture(services.value_or(std::map<std::string, snapshot::ServiceRecord>()),
                           services_ != nullptr ? "daemon" : "offline", message, enforce_required);
  if (taken.ok()) {
    Journal("captured", taken->commit, {{"message", message}, {"size_bytes", taken->size_bytes}});
  } else {
    Journal("capture_failed", "", {{"message", message}, {"error", taken.error().message()}});
  }
  return taken;
}

Status SnapshotService::TagSnapshot(const std::string& revision, const std::string& name) {
  std::lock_guard lock(mutex_);
  REBOUND_RETURN_IF_ERROR(snapshotter_.Tag(revision, name));
  Journal("tagged", revision, {{"tag", name}});
  PushTagged(name);
  return OkStatus();
}

std::map<std::string, std::string> SnapshotService::CurrentServiceStates() {
  std::map<std::string, std::string> states;
  if (services_ != nullptr) {
    for (const ServiceStatus& status : services_->ListServices()) {
      states[status.name] = status.state;
    }
  }
  return states;
}

nlohmann::json SnapshotService::StartRecordedServices(const snapshot::RecoveryPlan& plan) {
  nlohmann::json started = nlohmann::json::array();
  for (const std::string& name : start_order_) {
    const auto action = std::find_if(plan.services.begin(), plan.services.end(),
                                     [&](const auto& a) { return a.name == name; });
    if (action == plan.services.end() || action->action != "start" || services_ == nullptr) {
      continue;
    }
    auto result = services_->StartService(name);
    started.push_back({{"name", name},
                       {"ok", result.ok()},
                       {"state", result.ok() ? result->state : ""},
                       {"error", result.ok() ? "" : result.error().message()}});
  }
  return started;
}

Result<nlohmann::json> SnapshotService::RecoverSnapshot(const RecoverRequest& request) {
  std::lock_guard lock(mutex_);
  auto plan = snapshotter_.Plan(request.selector, CurrentServiceStates());
  if (!plan.ok()) {
    return plan.error();
  }
  nlohmann::json answer = {{"dry_run", request.dry_run},
                           {"plan", snapshot::RecoveryPlanToJson(*plan)}};
  if (request.dry_run) {
    return answer;
  }
  auto before = CaptureLocked(std::nullopt, "before recovering to " + plan->commit.substr(0, 12),
                              /*enforce_required=*/false);
  if (!before.ok()) {
    return before.error().WithContext("capturing the current state before recovering");
  }
  answer["pre_recovery_commit"] = before->commit;
  // The plan's versions were read before that capture; the capture writes no module state,
  // so the compare-and-set still guards against any other writer.
  const snapshot::RestoreReport restored = snapshotter_.RestoreModules(*plan);
  answer["modules"] = snapshot::RestoreReportToJson(restored);
  if (!restored.ok()) {
    return ReportFailedRestore(*plan, std::move(answer));
  }
  answer["started"] = StartRecordedServices(*plan);
  answer["verified"] = VerifyStarted(answer["started"]);
  bool ok = true;
  for (const nlohmann::json& started : answer["started"]) {
    ok = ok && started.value("ok", false);
  }
  for (const nlohmann::json& verified : answer["verified"]) {
    ok = ok && verified.value("healthy", false);
  }
  answer["ok"] = ok;
  Finish(*plan, answer);
  return answer;
}

nlohmann::json SnapshotService::VerifyStarted(const nlohmann::json& started) {
  std::vector<std::string> names;
  for (const nlohmann::json& service : started) {
    if (service.value("ok", false)) {
      names.push_back(service.value("name", ""));
    }
  }
  nlohmann::json verified = nlohmann::json::array();
  if (names.empty() || services_ == nullptr || verify_timeout_ <= Duration::zero()) {
    return verified;
  }
  const auto deadline = clock_.MonotonicNow() + verify_timeout_;
  for (;;) {
    verified = nlohmann::json::array();
    bool all_healthy = true;
    for (const std::string& name : names) {
      auto status = services_->GetService(name);
      const std::string state = status.ok() ? status->state : "unknown";
      const std::string health = status.ok() ? status->health : "unknown";
      // A service without a health check counts as healthy once it runs.
      const bool healthy = state == "running" && (health == "healthy" || health == "none");
      verified.push_back({{"name", name}, {"state", state}, {"health", health},
                          {"healthy", healthy}});
      all_healthy = all_healthy && healthy;
    }
    if (all_healthy || clock_.MonotonicNow() >= deadline) {
      return verified;
    }
    clock_.SleepFor(kVerifyPollInterval);
  }
}

void SnapshotService::Finish(const snapshot::RecoveryPlan& plan, const nlohmann::json& answer) {
  const bool ok = answer.value("ok", false);
  nlohmann::json outcome = {{"commit", plan.commit},
                            {"ok", ok},
                            {"pre_recovery_commit", answer["pre_recovery_commit"]},
                            {"modules", answer["modules"]},
                            {"started", answer["started"]},
                            {"verified", answer.value("verified", nlohmann::json::array())},
                            {"services_not_started",
                             answer.value("services_not_started", nlohmann::json::array())}};
  Journal(ok ? "recovered" : "recovery_failed", plan.commit, outcome);
  if (notify_) {
    outcome["event"] = ok ? "snapshot.recovered" : "snapshot.recovery_failed";
    outcome["message"] = (ok ? "recovered to snapshot " : "recovery to snapshot ") +
                         plan.commit.substr(0, 12) + (ok ? "" : " incomplete");
    notify_(outcome);
  }
}

Status SnapshotService::RestoreModule(const std::string& module,
                                      std::optional<WallTime> failed_at) {
  std::lock_guard lock(mutex_);
  snapshot::SnapshotSelector selector;
  if (failed_at) {
    selector.at_ms = ToUnixMillis(*failed_at);
  }
  auto plan = snapshotter_.Plan(selector, {});
  if (!plan.ok()) {
    return plan.error().WithContext("restoring module " + module);
  }
  const bool recorded = std::any_of(plan->modules.begin(), plan->modules.end(),
                                    [&](const auto& change) { return change.module == module; });
  if (!recorded) {
    return NotFoundError("restoring module " + module + ": the snapshot (" +
                         plan->commit.substr(0, 12) + ") has no state for it");
  }
  const snapshot::RestoreReport report = snapshotter_.RestoreModules(*plan, module);
  Journal(report.ok() ? "module_restored" : "module_restore_failed", plan->commit,
          {{"module", module}, {"modules", snapshot::RestoreReportToJson(report)}});
  if (!report.ok()) {
    return report.failed->error.WithContext("restoring module " + module);
  }
  return OkStatus();
}

nlohmann::json SnapshotService::ReportFailedRestore(const snapshot::RecoveryPlan& plan,
                                                    nlohmann::json answer) {
  nlohmann::json not_started = nlohmann::json::array();
  for (const snapshot::ServiceAction& action : plan.services) {
    if (action.action == "start") {
      not_started.push_back(action.name);
    }
  }
  answer["ok"] = false;
  answer["started"] = nlohmann::json::array();
  answer["services_not_started"] = not_started;
  const nlohmann::json& failed = answer["modules"]["failed"];
  spdlog::warn("recovery to {} stopped: module {} ({}): {}", plan.commit.substr(0, 12),
               failed.value("module", ""), failed.value("step", ""), failed.value("message", ""));
  Finish(plan, answer);
  return answer;
}

void SnapshotService::Journal(const std::string& kind, const std::string& commit,
                              nlohmann::json data) {
  // The snapshot itself is already durable in git; a journal failure only loses the record.
  auto appended =
      store_.journal()
          .Append(
              {.category = "snapshot", .kind = kind, .subject = commit, .data = std::move(data)})
          .get();
  if (!appended.ok()) {
    spdlog::warn("snapshot {} {}: not journaled: {}", kind, commit, appended.error().message());
  }
}

}  // namespace rebound::engine
