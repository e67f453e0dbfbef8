#pragma once

// Reliability::Service, what Reliability keeps per service. Internal to engine/: shared by
// reliability.cc and reliability_status.cc only.

#include <memory>
#include <optional>

#include "engine/reliability.h"

namespace rebound::engine {

struct Reliability::Service {
  ServiceSpec spec;
  ServiceReliability settings;
  std::unique_ptr<health::ServiceProbe> probe = {};  // none without [health]
  std::unique_ptr<health::NotifySocket> notify = {};
  std::unique_ptr<resilience::CircuitBreaker> breaker = {};
  bool running = false;
  std::optional<int> pid = {};
  std::optional<MonoTime> memory_acted_at = {};
};

}  // namespace rebound::engine
