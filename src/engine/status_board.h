#pragma once

// StatusBoard: the services' status as the reactor last published it, for API threads to read
// without a hop onto the reactor (a hop per GET /health serialized every reader behind the
// loop and copied every status each time).
//
//   StatusBoard board;
//   board.Publish(statuses);                                  // loop thread, after changes
//   std::shared_ptr<const ServicesSnapshot> now = board.Current();   // any thread
//   if (now->version != cached_version) Rebuild(now->services);
//
// A publish that changes nothing keeps the version, so readers can cache what they derive
// from a snapshot (the /health body) by version. Snapshots are immutable once published.
// Thread-safety: Current() from any thread; Publish() from one thread at a time (the reactor,
// or the thread that owns the daemon before and after the loop runs).

#include <memory>
#include <mutex>
#include <vector>

#include "engine/service_controller.h"

namespace rebound::engine {

class StatusBoard {
 public:
  // Swaps in `services` (uptime_seconds ignored) as a new version when they differ from the
  // current ones. Returns true when they did.
  bool Publish(std::vector<ServiceStatus> services);
  std::shared_ptr<const ServicesSnapshot> Current() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const ServicesSnapshot> current_ =  // GUARDED_BY(mutex_)
      std::make_shared<const ServicesSnapshot>();
};

// `snapshot`'s statuses with uptime_seconds filled in as of `now`.
std::vector<ServiceStatus> WithUptimes(const ServicesSnapshot& snapshot, WallTime now);

}  // namespace rebound::engine
