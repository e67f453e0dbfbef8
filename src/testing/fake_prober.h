#pragma once

// FakeProber: a Prober whose probes wait until the test answers them, for ServiceProbe and
// daemon-logic tests under a ManualClock.
//
//   FakeProber prober;
//   ServiceProbe probe(spec, prober, scheduler, clock, on_change);
//   scheduler.AdvanceBy(spec.interval);      // the probe runs: one pending request
//   prober.Answer({.ok = false, .reason = "connection refused"});
//
// Not thread-safe; `done` runs inside Answer, on the test's thread.

#include <deque>
#include <functional>

#include "health/prober.h"

namespace rebound::testing {

class FakeProber final : public health::Prober {
 public:
  void Run(const health::ProbeSpec& spec,
           std::function<void(health::ProbeResult)> done) override;

  // Probes started and not answered yet.
  size_t pending() const { return pending_.size(); }
  size_t runs() const { return runs_; }
  // Answers the oldest pending probe. REQUIRES: pending() > 0.
  void Answer(health::ProbeResult result);

 private:
  std::deque<std::function<void(health::ProbeResult)>> pending_;
  size_t runs_ = 0;
};

}  // namespace rebound::testing
