#pragma once

// SnapshotService: the snapshot history of one data directory, as the daemon and the offline
// CLI use it. Capture gathers the services' status (when a daemon supervises them) and the
// module states; recovery captures the current state first, restores the chosen snapshot's
// module states (compare-and-set), then starts the services it recorded running that are
// now stopped, exited or fatal, dependencies first (the configuration's start order). Each capture
// and recovery is journaled ("snapshot" events). With [snapshots] remote set, each capture is then
// pushed there, retried with exponential backoff on transport errors; a push that fails is reported
// in the answer ("push_error") and logged, and the snapshot stays committed locally.
//
//   auto service = SnapshotService::Open(config, *store, &daemon, clock);  // daemon: live
//   auto offline = SnapshotService::Open(config, *store, nullptr, clock);  // CLI, daemon down
//   auto result = (*service)->RecoverSnapshot({.selector = {.at_ms = t}, .dry_run = true});
//
// Thread-safe: captures and recoveries run one at a time. Store, services and clock must
// outlive this.

#include <functional>
#include <memory>
#include <mutex>

#include "base/random.h"
#include "engine/config.h"
#include "engine/service_controller.h"
#include "engine/snapshot_controller.h"
#include "jobs/job_counts.h"
#include "snapshot/git_store.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"

namespace rebound::engine {

class SnapshotService final : public SnapshotController {
 public:
  // `services` null: offline (no service status is recorded, none is started).
  // REQUIRES: the caller holds the data directory's lock (stale git lock files are removed).
  // `transport` reaches module sources and restore targets; null: the real one.
  static Result<std::unique_ptr<SnapshotService>> Open(
      const Config& config, store::Store& store, ServiceController* services, Clock& clock,
      snapshot::EndpointTransport* transport = nullptr);

  Result<nlohmann::json> ListSnapshots() override;
  Result<nlohmann::json> CaptureSnapshot(const std::string& message) override;
  // A capture with service status the caller gathered (the daemon's reactor, for scheduled
  // and shutdown captures, which must not wait on the reactor).
  Result<nlohmann::json> CaptureWith(std::map<std::string, snapshot::ServiceRecord> services,
                                     const std::string& message);
  Status TagSnapshot(const std::string& revision, const std::string& name) override;
  Result<nlohmann::json> RecoverSnapshot(const RecoverRequest& request) override;
  // snapshot_maintenance.cc: retention, push on demand, remote status.
  Result<nlohmann::json> PruneSnapshots(std::optional<int> keep) override;
  Result<nlohmann::json> PushSnapshots() override;
  Result<nlohmann::json> SnapshotRemoteStatus() override;
  // The restore_module recovery action: `module` from the newest snapshot taken at or before
  // `failed_at` (the newest of all when unset) into the store and its restore target;
  // journaled ("module_restored" / "module_restore_failed").
  Status RestoreModule(const std::string& module, std::optional<WallTime> failed_at = {});

  // Called with each finished recovery's outcome (docs/api.md), to tell a person (the daemon
  // POSTs it to the services' recovery.notify_url webhooks). Must not block.
  void SetNotifier(std::function<void(const nlohmann::json&)> notify) {
    notify_ = std::move(notify);
  }

  snapshot::GitStore& git() { return *git_; }

  // The daemon's job counts (JobStore::counts()) for system_status.jobs, instead of counting
  // the jobs table at each capture. Without them (offline), the table is counted.
  void UseJobCounts(std::shared_ptr<const jobs::JobCounts> counts);
  struct LiveJobCounts {
    std::mutex mutex;
    std::shared_ptr<const jobs::JobCounts> counts;  // GUARDED_BY(mutex)
  };

  static std::map<std::string, snapshot::ServiceRecord> Records(
      const std::vector<ServiceStatus>& statuses);

 private:
  SnapshotService(store::Store& store, ServiceController* services,
                  std::unique_ptr<snapshot::GitStore> git, Clock& clock,
                  snapshot::SnapshotterOptions options, std::string remote,
                  std::vector<std::string> start_order, Duration verify_timeout);

  Result<snapshot::CaptureResult> CaptureLocked(
      std::optional<std::map<std::string, snapshot::ServiceRecord>> services,
      const std::string& message, bool enforce_required = true);
  // The module step failed: say what was and was not done, journal it.
  nlohmann::json ReportFailedRestore(const snapshot::RecoveryPlan& plan, nlohmann::json answer);
  std::map<std::string, std::string> CurrentServiceStates();
  nlohmann::json StartRecordedServices(const snapshot::RecoveryPlan& plan);
  // Waits (at most verify_timeout_) until every service started is running and healthy (or
  // has no probe); one entry per service: {"name", "state", "health", "healthy"}.
  nlohmann::json VerifyStarted(const nlohmann::json& started);
  // Journals the outcome ("recovered" or "recovery_failed") and notifies.
  void Finish(const snapshot::RecoveryPlan& plan, const nlohmann::json& answer);
  void Journal(const std::string& kind, const std::string& commit, nlohmann::json data);
  // Adds "pushed" / "push_error" to a capture's answer when a remote is configured.
  void PushTo(nlohmann::json& answer);
  // After a capture, with [snapshots] keep set: prunes, adding "pruned" / "prune_error".
  void ApplyRetention(nlohmann::json& answer);
  Result<snapshot::PruneResult> PruneLocked(int keep);
  // With a remote: pushes right after tagging, so a tag survives a wipe that comes before
  // the next capture. A failure is logged; the next capture or push sends the tag.
  void PushTagged(const std::string& tag);

  std::mutex mutex_;
  store::Store& store_;
  ServiceController* services_;
  std::unique_ptr<snapshot::GitStore> git_;
  snapshot::Snapshotter snapshotter_;
  Clock& clock_;
  std::string remote_;
  int keep_ = 0;                          // [snapshots] keep; 0: keep every snapshot
  std::vector<std::string> start_order_;  // dependencies first
  Duration verify_timeout_;
  std::function<void(const nlohmann::json&)> notify_;
  Random random_{Random::EntropySeed()};
  std::shared_ptr<LiveJobCounts> live_jobs_;
};

}  // namespace rebound::engine
