#pragma once

// Prober: runs one active health probe (http, tcp or exec) of a ProbeSpec. The daemon's is
// PoolProber (prober_posix.h), on worker threads; tests use a fake that answers when told.
//
//   prober.Run(spec, [](ProbeResult result) { ... });   // exactly once, within ~timeout

#include <functional>

#include "health/health_monitor.h"
#include "health/probe_spec.h"

namespace rebound::health {

class Prober {
 public:
  virtual ~Prober() = default;
  // Calls `done` exactly once, on any thread, after at most about spec.timeout: a probe that
  // hangs is cut off and reported as a failure. REQUIRES: an http, tcp or exec spec.
  virtual void Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) = 0;
};

}  // namespace rebound::health
