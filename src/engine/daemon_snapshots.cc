// The daemon's own captures: every [snapshots] interval, and once on graceful shutdown
// before services are stopped. Service status is read here, on the loop thread; the capture
// itself (SQLite read, file and git fsyncs) runs on the snapshot worker so the loop never
// waits on a disk.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "base/duration.h"

#include "engine/daemon.h"

namespace rebound::engine {

std::map<std::string, snapshot::ServiceRecord> Daemon::ServiceRecordsOnLoop() const {
  std::vector<ServiceStatus> statuses;
  for (const auto& view : supervisor_->Views()) {
    statuses.push_back(ToStatus(view));
  }
  return SnapshotService::Records(statuses);
}

void Daemon::OpenSnapshotsInBackground() {
  snapshot_worker_->Submit([this] {
    Status opened = snapshots_->Open();
    if (!opened.ok()) {
      // Degraded, not stopped: the services run, and the error is on /health (so in
      // `rebound status`), on every snapshot route, in rebound_snapshots_available and in the
      // journal, where an operator looking back at what happened finds it.
      spdlog::error("{}", opened.error().message());
      reactor_->Post([this, message = opened.error().message()] {
        Journal("daemon", "snapshots_unavailable", "", {{"message", message}});
      });
      return;
    }
    snapshots_available_.Set(1);
  });
}

void Daemon::CaptureInBackground(const std::string& message) {
  snapshot_worker_->Submit([this, records = ServiceRecordsOnLoop(), message]() mutable {
    Result<SnapshotService*> snapshots = snapshots_->Ready();
    if (!snapshots.ok()) {
      spdlog::warn("snapshot {} not taken: {}", message, snapshots.error().message());
      return;
    }
    auto taken = (*snapshots)->CaptureWith(std::move(records), message);
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

void Daemon::CaptureOnEvent(const std::string& category, const std::string& kind,
                            const std::string& subject) {
  const SnapshotSettings& settings = options_.config.snapshots;
  const std::string event = category + "." + kind;
  if (settings.before_recovery && event == "service.recovery_attempt") {
    CaptureThrottled("before_recovery:" + subject, "before recovery of " + subject);
  }
  if (std::find(settings.on_events.begin(), settings.on_events.end(), event) !=
      settings.on_events.end()) {
    CaptureThrottled("event:" + event,
                     "on " + event + (subject.empty() ? std::string() : " of " + subject));
  }
}

void Daemon::CaptureThrottled(const std::string& key, const std::string& message) {
  if (shutting_down_ || !snapshot_worker_ || !supervisor_) {
    return;  // starting up or stopping: the shutdown capture, if configured, covers it
  }
  if (!capture_throttle_) {
    capture_throttle_ =
        std::make_unique<CaptureThrottle>(options_.config.snapshots.trigger_interval);
  }
  if (!capture_throttle_->Allow(key, DefaultClock().MonotonicNow())) {
    spdlog::debug("snapshot \"{}\" skipped: {} fired less than {} ago", message, key,
                  FormatDuration(options_.config.snapshots.trigger_interval));
    return;
  }
  CaptureInBackground(message);
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

void Daemon::RestoreModulesInBackground(const std::vector<std::string>& modules,
                                        WallTime failed_at, std::function<void(Status)> done) {
  if (!snapshot_worker_) {
    done(ResourceError("the daemon is shutting down"));
    return;
  }
  snapshot_worker_->Submit([this, modules, failed_at, done = std::move(done)] {
    // Unavailable snapshots answer their own error: what is wrong with the repository.
    Result<SnapshotService*> snapshots = snapshots_->Ready();
    Status restored = snapshots.ok() ? OkStatus() : Status(snapshots.error());
    for (const std::string& module : snapshots.ok() ? modules : std::vector<std::string>{}) {
      restored = (*snapshots)->RestoreModule(module, failed_at);
      if (!restored.ok()) {
        break;
      }
    }
    reactor_->Post([done, restored] { done(restored); });
  });
}

void Daemon::FinishSnapshots() {
  snapshot_worker_.reset();  // finishes what was submitted: the shutdown capture
  snapshots_->Abandon("the daemon stopped before its snapshot repository was opened");
}

}  // namespace rebound::engine
