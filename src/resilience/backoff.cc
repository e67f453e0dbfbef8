#include "resilience/backoff.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "base/duration.h"

namespace rebound::resilience {
namespace {

constexpr std::array<std::pair<BackoffStrategy, std::string_view>, 4> kStrategyNames = {{
    {BackoffStrategy::kFixed, "fixed"},
    {BackoffStrategy::kLinear, "linear"},
    {BackoffStrategy::kExponential, "exponential"},
    {BackoffStrategy::kCustom, "custom"},
}};

constexpr std::array<std::pair<Jitter, std::string_view>, 4> kJitterNames = {{
    {Jitter::kNone, "none"},
    {Jitter::kFull, "full"},
    {Jitter::kEqual, "equal"},
    {Jitter::kDecorrelated, "decorrelated"},
}};

template <typename Enum, size_t N>
Result<Enum> ParseName(const std::array<std::pair<Enum, std::string_view>, N>& names,
                       std::string_view name, std::string_view what) {
  std::string choices;
  for (const auto& [value, known] : names) {
    if (known == name) {
      return value;
    }
    choices += choices.empty() ? "" : ", ";
    choices += known;
  }
  return ValidationError("unknown " + std::string(what) + " \"" + std::string(name) +
                         "\"; expected one of: " + choices);
}

Duration ScaledNanos(Duration base, double multiplier, Duration cap) {
  const double nanos = static_cast<double>(base.count()) * multiplier;
  if (!std::isfinite(nanos) || nanos >= static_cast<double>(cap.count())) {
    return cap;
  }
  return Duration(static_cast<int64_t>(nanos));
}

}  // namespace

std::string_view BackoffStrategyName(BackoffStrategy strategy) {
  return kStrategyNames[static_cast<size_t>(strategy)].second;
}

Result<BackoffStrategy> ParseBackoffStrategy(std::string_view name) {
  if (name == "custom") {
    return ValidationError(
        "backoff strategy \"custom\" takes a function; it can only be set "
        "from C++, not by name");
  }
  return ParseName(kStrategyNames, name, "backoff strategy");
}

std::string_view JitterName(Jitter jitter) {
  return kJitterNames[static_cast<size_t>(jitter)].second;
}

Result<Jitter> ParseJitter(std::string_view name) {
  return ParseName(kJitterNames, name, "jitter");
}

Status ValidateBackoffConfig(const BackoffConfig& config) {
  auto bad = [](std::string field, std::string why) {
    return ValidationError("backoff." + field + " " + why);
  };
  if (config.initial < Duration::zero()) {
    return bad("initial", "must not be negative (got " + FormatDuration(config.initial) + ")");
  }
  if (config.increment < Duration::zero()) {
    return bad("increment", "must not be negative (got " + FormatDuration(config.increment) + ")");
  }
  if (config.max < Duration::zero()) {
    return bad("max", "must not be negative (got " + FormatDuration(config.max) + ")");
  }
  if (config.max < config.initial) {
    return bad("max", "must be at least backoff.initial (" + FormatDuration(config.initial) +
                          "), got " + FormatDuration(config.max));
  }
  if (!(config.factor >= 1.0) || !std::isfinite(config.factor)) {
    return bad("factor",
               "must be a finite number >= 1.0 (got " + std::to_string(config.factor) + ")");
  }
  if (config.strategy == BackoffStrategy::kCustom && !config.custom) {
    return bad("custom", "must be set when the strategy is custom");
  }
  return OkStatus();
}

Result<Backoff> Backoff::Create(BackoffConfig config, Random& random) {
  REBOUND_RETURN_IF_ERROR(ValidateBackoffConfig(config));
  return Backoff(std::move(config), random);
}

Duration Backoff::BaseDelay(int retry) const {
  const int n = std::max(retry, 1);
  Duration base{0};
  switch (config_.strategy) {
    case BackoffStrategy::kFixed:
      base = config_.initial;
      break;
    case BackoffStrategy::kLinear:
      base =
          config_.initial + ScaledNanos(config_.increment, static_cast<double>(n - 1), config_.max);
      break;
    case BackoffStrategy::kExponential:
      base = ScaledNanos(config_.initial, std::pow(config_.factor, n - 1), config_.max);
      break;
    case BackoffStrategy::kCustom:
      base = std::max(config_.custom(n), Duration::zero());
      break;
  }
  return std::min(base, config_.max);
}

Duration Backoff::NextDelay() {
  ++retries_;
  const Duration base = BaseDelay(retries_);
  Duration delay = base;
  switch (config_.jitter) {
    case Jitter::kNone:
      break;
    case Jitter::kFull:
      delay = random_->UniformDuration(Duration::zero(), base);
      break;
    case Jitter::kEqual:
      delay = base / 2 + random_->UniformDuration(Duration::zero(), base - base / 2);
      break;
    case Jitter::kDecorrelated: {
      const Duration previous = retries_ == 1 ? config_.initial : previous_delay_;
      const Duration upper = ScaledNanos(previous, 3.0, config_.max);
      delay = std::min(random_->UniformDuration(config_.initial, upper), config_.max);
      break;
    }
  }
  previous_delay_ = delay;
  return delay;
}

int Backoff::ZeroDelaysAhead(int limit, bool from_reset) const {
  const int first = from_reset ? 1 : retries_ + 1;
  if (config_.max == Duration::zero()) {
    return limit;  // every delay is capped to zero, whatever the strategy and jitter
  }
  if (config_.jitter == Jitter::kDecorrelated) {
    // Drawn from [initial, 3 * previous]: zero only while initial and the previous delay are
    // (each zero delay keeps the next one zero).
    const bool previous_zero = from_reset || retries_ == 0 || previous_delay_ == Duration::zero();
    return config_.initial == Duration::zero() && previous_zero ? limit : 0;
  }
  // The other jitters keep a zero base at zero. Closed forms where there is one: the
  // supervisor asks after every launch, for every service.
  const bool zero_initial = config_.initial == Duration::zero();
  switch (config_.strategy) {
    case BackoffStrategy::kFixed:
    case BackoffStrategy::kExponential:
      return zero_initial ? limit : 0;
    case BackoffStrategy::kLinear:
      if (!zero_initial) {
        return 0;
      }
      return config_.increment == Duration::zero() ? limit : std::min(limit, first == 1 ? 1 : 0);
    case BackoffStrategy::kCustom:
      break;
  }
  int zeros = 0;
  while (zeros < limit && BaseDelay(first + zeros) == Duration::zero()) {
    ++zeros;
  }
  return zeros;
}

void Backoff::Reset() {
  retries_ = 0;
  previous_delay_ = Duration::zero();
}

}  // namespace rebound::resilience
