#include "api/event_query.h"

#include <charconv>
#include <ctime>
#include <set>

#include "base/duration.h"

namespace rebound::api {
namespace {

std::optional<int64_t> ParseInteger(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// "YYYY-MM-DDTHH:MM:SS[.fff]Z" only: a time zone other than UTC is refused, not guessed.
std::optional<int64_t> ParseRfc3339Utc(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  std::string rest = text.substr(static_cast<size_t>(consumed));
  if (rest.starts_with('.')) {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      ++digits;
    }
    std::string fraction = (rest.substr(1, digits - 1) + "000").substr(0, 3);
    millis = std::stoi(fraction);
    rest = rest.substr(digits);
  }
  zone = rest.size() == 1 ? rest[0] : 0;
  if (zone != 'Z' && zone != 'z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t seconds = ::timegm(&tm);
  return static_cast<int64_t>(seconds) * 1000 + millis;
}

Error BadParameter(const std::string& name, const std::string& value, const std::string& expected) {
  return ValidationError("query parameter \"" + name + "\" = \"" + value + "\": expected " +
                         expected);
}

}  // namespace

Result<int64_t> ParseTimeBound(const std::string& text, WallTime now) {
  if (auto millis = ParseInteger(text)) {
    return *millis;
  }
  if (auto millis = ParseRfc3339Utc(text)) {
    return *millis;
  }
  Result<Duration> ago = ParseDuration(text);
  if (ago.ok()) {
    return ToUnixMillis(now - std::chrono::duration_cast<WallTime::duration>(*ago));
  }
  return ValidationError("not Unix milliseconds, an RFC 3339 UTC time or a duration");
}

Result<store::EventFilter> ParseEventQuery(const std::multimap<std::string, std::string>& query,
                                           WallTime now) {
  static const std::set<std::string> kKnown = {"category", "kind",  "subject", "since",
                                               "until",    "after", "limit"};
  constexpr const char* kTime =
      "Unix milliseconds, an RFC 3339 UTC time (2026-11-25T22:00:00Z) or a duration ago (10m)";
  store::EventFilter filter;
  for (const auto& [name, value] : query) {
    if (!kKnown.contains(name)) {
      return ValidationError("unknown query parameter \"" + name +
                             "\" (known: category, kind, subject, since, until, after, limit)");
    }
    if (name == "category") {
      filter.category = value;
    } else if (name == "kind") {
      filter.kind = value;
    } else if (name == "subject") {
      filter.subject = value;
    } else if (name == "since" || name == "until") {
      Result<int64_t> millis = ParseTimeBound(value, now);
      if (!millis.ok()) {
        return BadParameter(name, value, kTime);
      }
      (name == "since" ? filter.since_ms : filter.until_ms) = *millis;
    } else if (name == "after") {
      std::optional<int64_t> seq = ParseInteger(value);
      if (!seq || *seq < 0) {
        return BadParameter(name, value, "a sequence number >= 0");
      }
      filter.after_seq = *seq;
    } else {
      std::optional<int64_t> limit = ParseInteger(value);
      if (!limit || *limit < 1 || *limit > kMaxEventLimit) {
        return BadParameter(name, value, "an integer from 1 to " + std::to_string(kMaxEventLimit));
      }
      filter.limit = static_cast<int>(*limit);
    }
  }
  return filter;
}

}  // namespace rebound::api
