#include "engine/deferred_snapshots.h"

namespace rebound::engine {

DeferredSnapshots::DeferredSnapshots(Opener opener) : opener_(std::move(opener)) {}

Status DeferredSnapshots::Open() {
  {
    std::unique_lock lock(mutex_);
    if (open_started_) {
      settled_.wait(lock, [this] { return service_ || error_; });
      return error_ ? Status(*error_) : OkStatus();
    }
    open_started_ = true;
  }
  auto opened = opener_();  // outside the lock: /health reads "opening" meanwhile
  std::lock_guard lock(mutex_);
  if (!opened.ok()) {
    if (!error_) {
      error_ = ResourceError("snapshots are unavailable: " + opened.error().message() +
                             "; stop rebound, check the repository (rebound verify, rebound "
                             "repair), then start it again");
    }
  } else if (!error_) {
    service_ = std::move(*opened);
    if (notify_) {
      service_->SetNotifier(notify_);
    }
    if (job_counts_) {
      service_->UseJobCounts(job_counts_);
    }
  }
  settled_.notify_all();
  return error_ ? Status(*error_) : OkStatus();
}

void DeferredSnapshots::Abandon(const std::string& reason) {
  std::lock_guard lock(mutex_);
  if (!service_ && !error_) {
    error_ = ResourceError("snapshots are unavailable: " + reason);
    settled_.notify_all();
  }
}

Result<SnapshotService*> DeferredSnapshots::Ready() {
  bool open_now = false;
  {
    std::lock_guard lock(mutex_);
    open_now = !open_started_ && !service_ && !error_;
  }
  if (open_now) {
    // A call ahead of the daemon's Open opens the repository itself: waiting would deadlock a
    // task queued on the snapshot worker before the daemon's Open (a capture on
    // "daemon.started"), which is the thread that Open would run on.
    (void)Open();
  }
  std::unique_lock lock(mutex_);
  settled_.wait(lock, [this] { return service_ || error_; });
  if (service_) {
    return service_.get();
  }
  return *error_;
}

SnapshotService* DeferredSnapshots::Service() {
  auto ready = Ready();
  return ready.ok() ? *ready : nullptr;
}

nlohmann::json DeferredSnapshots::HealthComponent() const {
  std::lock_guard lock(mutex_);
  if (service_) {
    return {{"status", "available"}, {"required", false}, {"message", ""}};
  }
  if (error_) {
    return {{"status", "unavailable"}, {"required", false}, {"message", error_->message()}};
  }
  return {{"status", "opening"}, {"required", false}, {"message", "opening the repository"}};
}

void DeferredSnapshots::SetNotifier(std::function<void(const nlohmann::json&)> notify) {
  std::lock_guard lock(mutex_);
  notify_ = notify;
  if (service_) {
    service_->SetNotifier(std::move(notify));
  }
}

Result<nlohmann::json> DeferredSnapshots::ListSnapshots() {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->ListSnapshots();
}

Result<nlohmann::json> DeferredSnapshots::CaptureSnapshot(const std::string& message) {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->CaptureSnapshot(message);
}

Status DeferredSnapshots::TagSnapshot(const std::string& revision, const std::string& name) {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->TagSnapshot(revision, name);
}

Result<nlohmann::json> DeferredSnapshots::RecoverSnapshot(const RecoverRequest& request) {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->RecoverSnapshot(request);
}

Result<nlohmann::json> DeferredSnapshots::PruneSnapshots(std::optional<int> keep) {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->PruneSnapshots(keep);
}

Result<nlohmann::json> DeferredSnapshots::PushSnapshots() {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->PushSnapshots();
}

Result<nlohmann::json> DeferredSnapshots::SnapshotRemoteStatus() {
  auto service = Ready();
  if (!service.ok()) {
    return service.error();
  }
  return (*service)->SnapshotRemoteStatus();
}

void DeferredSnapshots::UseJobCounts(std::shared_ptr<const jobs::JobCounts> counts) {
  std::lock_guard lock(mutex_);
  job_counts_ = counts;
  if (service_) {
    service_->UseJobCounts(std::move(counts));
  }
}

}  // namespace rebound::engine
