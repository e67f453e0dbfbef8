#pragma once

// DeferredSnapshots: the daemon's SnapshotController while its snapshot repository is opened
// in the background. libgit2's initialisation (its TLS backend parses the system's CA
// certificates) and the opening or creation of the repository take milliseconds that the
// first launches of services must not wait for (docs/benchmarks.md), so the daemon calls
// Open() on its snapshot worker once the services have been launched.
//
//   DeferredSnapshots snapshots([&] { return SnapshotService::Open(config, store, &d, clock); });
//   worker.Submit([&] { (void)snapshots.Open(); });  // after the first launches
//   auto list = snapshots.ListSnapshots();           // opens or waits for Open, then forwards
//
// A call made before Open() runs it (on the caller's thread); one made while Open() runs waits
// for it. If it failed, the daemon runs on without snapshots:
// every call and Ready() answer a resource error (HTTP 503) that quotes the repository's
// error, Service() is null, and HealthComponent() says "unavailable" with the same message. Abandon() ends the
// wait of a daemon that stops before Open() ran.
//
// Thread-safe. The opener's references must outlive Open().

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "engine/snapshot_controller.h"
#include "engine/snapshot_service.h"

namespace rebound::engine {

class DeferredSnapshots final : public SnapshotController {
 public:
  using Opener = std::function<Result<std::unique_ptr<SnapshotService>>()>;

  explicit DeferredSnapshots(Opener opener);

  // Runs the opener (the first call only; later calls return the first outcome).
  Status Open();
  // Open() will not run: waiting callers get `reason` (a resource error), if nothing came first.
  void Abandon(const std::string& reason);
  // Opens, or waits for Open(); the service, or the error every call answers instead (a
  // resource error quoting why the repository could not be opened).
  Result<SnapshotService*> Ready();
  // Ready(), with null for the error.
  SnapshotService* Service();
  // The /health component: {"status": "opening" | "available" | "unavailable",
  // "required": false, "message"}. Never waits.
  nlohmann::json HealthComponent() const;
  // Applied to the service when it opens (SnapshotService::SetNotifier).
  void SetNotifier(std::function<void(const nlohmann::json&)> notify);
  // Applied to the service when it opens (SnapshotService::UseJobCounts).
  void UseJobCounts(std::shared_ptr<const jobs::JobCounts> counts);

  Result<nlohmann::json> ListSnapshots() override;
  Result<nlohmann::json> CaptureSnapshot(const std::string& message) override;
  Status TagSnapshot(const std::string& revision, const std::string& name) override;
  Result<nlohmann::json> RecoverSnapshot(const RecoverRequest& request) override;
  Result<nlohmann::json> PruneSnapshots(std::optional<int> keep) override;
  Result<nlohmann::json> PushSnapshots() override;
  Result<nlohmann::json> SnapshotRemoteStatus() override;

 private:
  Opener opener_;
  mutable std::mutex mutex_;
  std::condition_variable settled_;
  bool open_started_ = false;                          // GUARDED_BY(mutex_)
  std::optional<Error> error_;                         // GUARDED_BY(mutex_): set when settled badly
  std::unique_ptr<SnapshotService> service_;           // GUARDED_BY(mutex_): set when settled well
  std::function<void(const nlohmann::json&)> notify_;  // GUARDED_BY(mutex_)
  std::shared_ptr<const jobs::JobCounts> job_counts_;  // GUARDED_BY(mutex_)
};

}  // namespace rebound::engine
