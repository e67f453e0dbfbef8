// The daemon's own captures: every [snapshots] interval, and once on graceful shutdown
// before services are stopped. Service status is read here, on the loop thread; the capture
// itself (SQLite read, file and git fsyncs) runs on the snapshot worker so the loop never
// waits on a disk.

#include <spdlog/spdlog.h>

#include <set>

#include "engine/daemon.h"

namespace rebound::engine {

std::map<std::string, snapshot::ServiceRecord> Daemon::ServiceRecordsOnLoop() const {
  std::vector<ServiceStatus> statuses;
  for (const auto& view : supervisor_->Views()) {
    statuses.push_back(ToStatus(view));
  }
  return SnapshotService::Records(statuses);
}

void Daemon::CaptureInBackground(const std::string& message) {
  snapshot_worker_->Submit([this, records = ServiceRecordsOnLoop(), message]() mutable {
    auto taken = snapshots_->CaptureWith(std::move(records), message);
    if (taken.ok()) {
      spdlog::info("snapshot {}: {}", message, (*taken)["commit"].get<std::string>());
    } else {
      spdlog::warn("snapshot {} failed: {}", message, taken.error().message());
    }
  });
}

void Daemon::ScheduleSnapshots() {
  const Duration interval = options_.config.snapshots.interval;
  if (interval <= Duration::zero()) {
    return;
  }
  reactor_->ScheduleAt(DefaultClock().MonotonicNow() + interval, [this] {
    if (shutting_down_) {
      return;
    }
    CaptureInBackground("scheduled");
    ScheduleSnapshots();
  });
}

void Daemon::CaptureOnShutdown() {
  if (options_.config.snapshots.on_shutdown) {
    CaptureInBackground("shutdown");
  }
}

void Daemon::NotifyRecovery(const nlohmann::json& outcome) {
  // Called on an API thread; the configuration belongs to the loop (a reload replaces it).
  reactor_->Post([this, outcome] {
    std::set<std::string> urls;
    for (const auto& [name, reliability] : options_.config.reliability) {
      if (!reliability.recovery.notify_url.empty()) {
        urls.insert(reliability.recovery.notify_url);
      }
    }
    for (const std::string& url : urls) {
      reliability_->NotifyOperator("snapshots", url, outcome);
    }
  });
}

void Daemon::FinishSnapshots() {
  snapshot_worker_.reset();  // finishes what was submitted: the shutdown capture
}

}  // namespace rebound::engine
