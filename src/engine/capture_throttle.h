#pragma once

// CaptureThrottle: decides whether an automatic capture trigger may fire now, so that a
// flapping service (a recovery every few seconds) or a burst of events does not flood the
// snapshot history. Each trigger key ("before_recovery:api", "event:service.fatal") fires at
// most once per `min_interval`; what it suppresses is counted.
//
//   CaptureThrottle throttle(std::chrono::minutes(1));
//   if (throttle.Allow("before_recovery:api", clock.MonotonicNow())) CaptureInBackground(...);
//
// Pure logic over the times it is given. Not thread-safe (the reactor owns it).

#include <cstdint>
#include <map>
#include <string>

#include "base/clock.h"

namespace rebound::engine {

class CaptureThrottle {
 public:
  explicit CaptureThrottle(Duration min_interval) : min_interval_(min_interval) {}

  // True (and remembered) when `key` last fired at least min_interval before `now`, or never.
  bool Allow(const std::string& key, MonoTime now);
  int64_t suppressed() const { return suppressed_; }

 private:
  Duration min_interval_;
  std::map<std::string, MonoTime> last_fired_;
  int64_t suppressed_ = 0;
};

}  // namespace rebound::engine
