#include "testing/fake_prober.h"

namespace rebound::testing {

void FakeProber::Run(const health::ProbeSpec&, std::function<void(health::ProbeResult)> done) {
  ++runs_;
  pending_.push_back(std::move(done));
}

void FakeProber::Answer(health::ProbeResult result) {
  auto done = std::move(pending_.front());
  pending_.pop_front();
  done(std::move(result));
}

}  // namespace rebound::testing
