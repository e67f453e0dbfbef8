// The daemon's sync service ([sync], docs/configuration.md): each configured module's
// application state, read through its source endpoint and written through its restore
// endpoint, kept in step with the store's module state. Rounds run on the snapshot worker,
// never on the loop (an endpoint may take its whole timeout); the loop only schedules them
// and journals what they did.

#include <spdlog/spdlog.h>

#include <future>
#include <memory>

#include "base/duration.h"
#include "engine/daemon.h"
#include "engine/sync_endpoints.h"

namespace rebound::engine {

void Daemon::OpenSync() {
  sync_settings_ = options_.config.sync;  // a reload does not change it: restart to
  const SyncSettings& settings = sync_settings_;
  if (!settings.enabled) {
    return;
  }
  sync_ = std::make_unique<store::SyncService>(store_->states(), DefaultClock(), settings.strategy);
  for (const std::string& module : settings.modules) {
    // ResolveSyncModules checked that each has a source and a restore endpoint.
    sync_->Register(module, ApplicationSyncEndpoints(snapshot::DefaultEndpointTransport(),
                                                     options_.config.snapshots.modules.at(module)));
  }
}

void Daemon::ScheduleSync() {
  const Duration interval = sync_settings_.interval;
  if (!sync_ || interval <= Duration::zero()) {
    return;
  }
  reactor_->ScheduleAt(DefaultClock().MonotonicNow() + interval, [this] {
    if (shutting_down_ || !snapshot_worker_) {
      return;
    }
    // One round waiting is enough: a slow application must not pile rounds up behind it.
    if (snapshot_worker_->Pending() == 0) {
      snapshot_worker_->Submit([this] { (void)RunSyncRound("scheduled"); });
    }
    ScheduleSync();
  });
}

store::SyncReport Daemon::RunSyncRound(const std::string& trigger) {
  store::SyncReport report = sync_->SyncOnce();
  sync_rounds_total_.Increment();
  sync_conflicts_total_.Increment(report.Count(store::SyncDirection::kConflict));
  reactor_->Post([this, report, trigger] { JournalSyncRound(report, trigger); });
  return report;
}

void Daemon::JournalSyncRound(const store::SyncReport& report, const std::string& trigger) {
  for (const store::ModuleSyncResult& result : report.modules) {
    if (result.direction == store::SyncDirection::kConflict ||
        result.direction == store::SyncDirection::kError) {
      spdlog::warn("sync {}: {}: {}", result.module, store::SyncDirectionName(result.direction),
                   result.detail);
    } else if (result.direction == store::SyncDirection::kToStore ||
               result.direction == store::SyncDirection::kToMemory) {
      spdlog::info("sync {}: {}", result.module, store::SyncDirectionName(result.direction));
    }
  }
  const bool quiet =
      report.Count(store::SyncDirection::kUnchanged) + report.Count(store::SyncDirection::kTie) ==
      static_cast<int>(report.modules.size());
  if (quiet && trigger == "scheduled") {
    return;  // counted in rebound_sync_rounds_total; a journal entry every 30 s says nothing
  }
  nlohmann::json data = store::SyncReportToJson(report);
  data["trigger"] = trigger;
  Journal("sync", "round", "", std::move(data));
}

Result<nlohmann::json> Daemon::ForceSync() {
  if (!sync_) {
    return ValidationError("sync is not configured: add a [sync] table to " + config_path_ +
                           " (docs/configuration.md \"[sync]\") and restart rebound");
  }
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down");
  }
  auto done = std::make_shared<std::promise<store::SyncReport>>();
  std::future<store::SyncReport> report = done->get_future();
  const bool submitted = reactor_->Call([this, done] {
    if (!snapshot_worker_) {
      return false;
    }
    snapshot_worker_->Submit([this, done] { done->set_value(RunSyncRound("forced")); });
    return true;
  });
  if (!submitted) {
    return ResourceError("the daemon is shutting down");
  }
  return store::SyncReportToJson(report.get());
}

nlohmann::json Daemon::SyncStatus() {
  const SyncSettings& settings = sync_settings_;  // set before any thread starts; read-only
  nlohmann::json status = {{"enabled", sync_ != nullptr},
                           {"interval", FormatDuration(settings.interval)},
                           {"strategy", store::SyncStrategyName(settings.strategy)},
                           {"modules", settings.modules},
                           {"rounds_total", 0},
                           {"conflicts_total", 0},
                           {"last_round", nullptr}};
  if (!sync_) {
    return status;
  }
  status["rounds_total"] = sync_->rounds_total();
  status["conflicts_total"] = sync_->conflicts_total();
  if (std::optional<store::SyncReport> last = sync_->LastReport()) {
    status["last_round"] = store::SyncReportToJson(*last);
  }
  return status;
}

}  // namespace rebound::engine
