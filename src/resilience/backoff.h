#pragma once

// Backoff: the delay before each retry (Envoy-style: a small object per retrying operation).
//
//   BackoffConfig config{.strategy = BackoffStrategy::kExponential,
//                        .initial = 100ms, .factor = 2.0, .max = 30s,
//                        .jitter = Jitter::kFull};
//   Random random(Random::EntropySeed());
//   auto backoff = Backoff::Create(config, random);   // Result<Backoff>: bad config -> Error
//   Duration d1 = backoff->NextDelay();               // before retry 1: up to 100ms
//   Duration d2 = backoff->NextDelay();               // before retry 2: up to 200ms
//
// Base delay of retry n (n = 1, 2, ...): fixed: initial; linear: initial + increment*(n-1);
// exponential: initial * factor^(n-1); custom: fn(n). Always capped by max.
// Jitter: none: base; full: uniform [0, base]; equal: base/2 + uniform [0, base/2];
// decorrelated (as AWS describes it): uniform [initial, 3 * previous delay], capped by max.
//
// Not thread-safe. The Random must outlive the Backoff.

#include <functional>
#include <optional>
#include <string_view>

#include "base/clock.h"
#include "base/error.h"
#include "base/random.h"

namespace rebound::resilience {

enum class BackoffStrategy { kFixed, kLinear, kExponential, kCustom };
enum class Jitter { kNone, kFull, kEqual, kDecorrelated };

std::string_view BackoffStrategyName(BackoffStrategy strategy);
Result<BackoffStrategy> ParseBackoffStrategy(std::string_view name);
std::string_view JitterName(Jitter jitter);
Result<Jitter> ParseJitter(std::string_view name);

struct BackoffConfig {
  BackoffStrategy strategy = BackoffStrategy::kExponential;
  Duration initial = std::chrono::milliseconds(100);
  Duration increment = std::chrono::milliseconds(100);  // linear only
  double factor = 2.0;                                  // exponential only
  Duration max = std::chrono::seconds(30);
  Jitter jitter = Jitter::kNone;
  std::function<Duration(int retry)> custom = {};  // custom only; retry counts from 1
};

// Ok, or a validation Error naming the field, the bad value and the rule.
Status ValidateBackoffConfig(const BackoffConfig& config);

class Backoff {
 public:
  static Result<Backoff> Create(BackoffConfig config, Random& random);

  // The delay before the next retry; advances the retry count.
  Duration NextDelay();
  // Back to the first retry (after a success).
  void Reset();
  // Retries handed out since construction or Reset().
  int retries() const { return retries_; }
  // How many of the next delays, up to `limit`, are zero whatever the jitter draws: from the
  // current retry on, or (from_reset) from the first retry after a Reset(). A supervisor
  // pre-authorises that many immediate restarts.
  int ZeroDelaysAhead(int limit, bool from_reset = false) const;

  // The capped delay of retry n before jitter. REQUIRES: n >= 1.
  Duration BaseDelay(int retry) const;

 private:
  Backoff(BackoffConfig config, Random& random) : config_(std::move(config)), random_(&random) {}

  BackoffConfig config_;
  Random* random_;
  int retries_ = 0;
  Duration previous_delay_{0};  // for decorrelated jitter
};

}  // namespace rebound::resilience
