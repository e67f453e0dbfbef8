#pragma once

// Secret redaction: a recovery document never stores secrets. Every object key (at any depth,
// inside arrays too) that matches one of the glob patterns, case-insensitively, has its value
// replaced by "[REDACTED]".
//
//   nlohmann::json doc = {{"db", {{"host", "x"}, {"Password", "hunter2"}}}};
//   RedactSecrets(doc, DefaultRedactPatterns());   // doc["db"]["Password"] == "[REDACTED]"
//
// On restore, KeepRedactedValues puts back the current value wherever the snapshot holds the
// marker, so recovering to a snapshot does not overwrite live secrets with "[REDACTED]".
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace rebound::snapshot {

inline constexpr std::string_view kRedactedMarker = "[REDACTED]";

// *key*, *token*, *secret*, *password*.
const std::vector<std::string>& DefaultRedactPatterns();

// Glob with * (any run) and ? (one character), case-insensitive.
bool GlobMatches(std::string_view pattern, std::string_view text);

// Returns how many values were replaced.
int RedactSecrets(nlohmann::json& document, const std::vector<std::string>& patterns);

// `snapshot` with every "[REDACTED]" value replaced by the value at the same path in
// `current` (left as the marker when `current` has none).
nlohmann::json KeepRedactedValues(const nlohmann::json& snapshot, const nlohmann::json& current);

// True when some value (at any depth) is still the "[REDACTED]" marker.
bool HasRedactedValues(const nlohmann::json& document);

}  // namespace rebound::snapshot
