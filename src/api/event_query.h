#pragma once

// The query string of GET /v1/events and /v1/events/stream, parsed into a journal filter.
//
//   Result<store::EventFilter> filter = ParseEventQuery(request.query, clock.WallNow());
//   // ?category=service&kind=exited&subject=api&since=10m&limit=50&after=120
//
// since / until: Unix milliseconds ("1700000000000"), an RFC 3339 UTC time
// ("2026-11-25T22:00:00Z"), or a duration meaning "that long ago" ("90s", "1h30m").
// after: a sequence number (events after it). limit: 1..10000 (default 1000).
// Unknown parameters are refused, so a typo ("categroy") is not silently a wider query.
// Errors are validation errors naming the parameter and what it accepts. Pure function.

#include <map>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "store/journal.h"

namespace rebound::api {

inline constexpr int kMaxEventLimit = 10000;

Result<store::EventFilter> ParseEventQuery(const std::multimap<std::string, std::string>& query,
                                           WallTime now);

// "1700000000000", "2026-11-25T22:00:00Z", or "10m" before `now`, as Unix milliseconds.
Result<int64_t> ParseTimeBound(const std::string& text, WallTime now);

}  // namespace rebound::api
