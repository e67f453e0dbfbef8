#pragma once

// Human durations as they appear in config files, the CLI and the API.
//
//   ParseDuration("1h30m")  -> 5400 s
//   ParseDuration("1.5s")   -> 1500 ms
//   FormatDuration(std::chrono::milliseconds(250)) -> "250ms"
//
// Grammar: one or more <number><unit> terms, number with an optional fraction, unit one of
// ns, us, ms, s, m, h, d. "0" alone is also accepted. Negative durations are rejected.

#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/error.h"

namespace rebound {

Result<Duration> ParseDuration(std::string_view text);

// A bare number of seconds ("60", "2.5"), as environment variables such as
// RECOVERY_INTERVAL=60 hold, or else a duration as ParseDuration reads it ("60s").
Result<Duration> ParseSecondsOrDuration(std::string_view text);

// The shortest exact spelling that ParseDuration reads back to the same value, e.g.
// "0s", "250ms", "1.5s", "1h30m", "2d", "1.25ms".
std::string FormatDuration(Duration duration);

}  // namespace rebound
