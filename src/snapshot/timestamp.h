#pragma once

// UTC timestamps as the recovery document and the CLI write them.
//
//   std::string text = FormatUtcMillis(1764113400123);   // "2025-11-25T23:30:00.123Z"
//   Result<int64_t> ms = ParseTimestampMillis("2025-11-25T23:30:00Z");
//
// Accepted: "YYYY-MM-DDTHH:MM:SS[.fff]Z" (a space may replace the T; the Z may be left out:
// it is UTC either way) and a plain count of seconds since the epoch ("1764113400").
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace rebound::snapshot {

std::string FormatUtcMillis(int64_t epoch_ms);
// A validation Error naming the accepted forms otherwise.
Result<int64_t> ParseTimestampMillis(std::string_view text);

}  // namespace rebound::snapshot
