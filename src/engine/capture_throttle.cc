#include "engine/capture_throttle.h"

namespace rebound::engine {

bool CaptureThrottle::Allow(const std::string& key, MonoTime now) {
  const auto last = last_fired_.find(key);
  if (last != last_fired_.end() && now - last->second < min_interval_) {
    ++suppressed_;
    return false;
  }
  last_fired_[key] = now;
  return true;
}

}  // namespace rebound::engine
