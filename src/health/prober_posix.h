#pragma once

// PoolProber: the real Prober. Each probe runs on a worker thread with blocking I/O bounded
// by the probe's timeout: tcp connects (non-blocking connect + poll), http GETs with
// cpp-httplib (connect, read and write timeouts), exec spawns the command in its own process
// group and kills the group when the timeout passes.
//
//   WorkerPool pool(8);
//   PoolProber prober(pool);
//   prober.Run(spec, [&](ProbeResult r) { reactor.Post([r] { ... }); });
//
// Thread-safe. `done` runs on a worker thread. The pool must outlive the prober's probes.

#include "base/worker_pool.h"
#include "health/prober.h"

namespace rebound::health {

class PoolProber final : public Prober {
 public:
  explicit PoolProber(WorkerPool& pool) : pool_(pool) {}
  void Run(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

 private:
  WorkerPool& pool_;
};

// The probes themselves, synchronous, for the pool and for tests.
ProbeResult ProbeTcp(const ProbeSpec& spec);
ProbeResult ProbeHttp(const ProbeSpec& spec);
ProbeResult ProbeExec(const ProbeSpec& spec);

}  // namespace rebound::health
