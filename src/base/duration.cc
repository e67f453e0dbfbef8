#include "base/duration.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>

namespace rebound {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t nanos;
};

// Longest suffixes first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 7> kUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
}};

Error BadDuration(std::string_view text, std::string_view why) {
  return ValidationError("invalid duration \"" + std::string(text) + "\": " + std::string(why) +
                         "; expected a number and a unit (ns, us, ms, s, m, h, d), e.g. 250ms, "
                         "1.5s, 1h30m");
}

const Unit* MatchUnit(std::string_view rest) {
  for (const Unit& unit : kUnits) {
    if (rest.starts_with(unit.suffix)) {
      const bool longer_unit_follows =
          rest.size() > unit.suffix.size() && std::isalpha(rest[unit.suffix.size()]);
      if (!longer_unit_follows) {
        return &unit;
      }
    }
  }
  return nullptr;
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text == "0") {
    return Duration::zero();
  }
  if (text.empty()) {
    return BadDuration(text, "empty");
  }
  if (text.front() == '-') {
    return BadDuration(text, "negative durations are not allowed");
  }
  long double total_nanos = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t digits = 0;
    bool seen_point = false;
    while (digits < rest.size() &&
           (std::isdigit(rest[digits]) || (rest[digits] == '.' && !seen_point))) {
      seen_point = seen_point || rest[digits] == '.';
      ++digits;
    }
    if (digits == 0 || (digits == 1 && rest[0] == '.')) {
      return BadDuration(text, "a number is missing before \"" + std::string(rest) + "\"");
    }
    const long double number = std::strtold(std::string(rest.substr(0, digits)).c_str(), nullptr);
    rest.remove_prefix(digits);
    const Unit* unit = MatchUnit(rest);
    if (unit == nullptr) {
      return BadDuration(text, rest.empty() ? "the unit is missing"
                                            : "unknown unit \"" + std::string(rest) + "\"");
    }
    rest.remove_prefix(unit->suffix.size());
    total_nanos += number * static_cast<long double>(unit->nanos);
  }
  if (total_nanos > static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return BadDuration(text, "too large");
  }
  return Duration(static_cast<int64_t>(std::llround(total_nanos)));
}

namespace {

// "1.5" from 1500 / 1000; drops trailing zeros.
std::string Decimal(int64_t value, int64_t scale) {
  std::string out = std::to_string(value / scale);
  int64_t fraction = value % scale;
  if (fraction == 0) {
    return out;
  }
  std::string digits = std::to_string(scale + fraction).substr(1);
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
  }
  return out + "." + digits;
}

}  // namespace

std::string FormatDuration(Duration duration) {
  int64_t nanos = duration.count();
  if (nanos == 0) {
    return "0s";
  }
  std::string sign = nanos < 0 ? "-" : "";
  nanos = std::abs(nanos);
  if (nanos < 1'000) {
    return sign + std::to_string(nanos) + "ns";
  }
  if (nanos < 1'000'000) {
    return sign + Decimal(nanos, 1'000) + "us";
  }
  if (nanos < 1'000'000'000) {
    return sign + Decimal(nanos, 1'000'000) + "ms";
  }
  if (nanos < 60'000'000'000 || nanos % 1'000'000'000 != 0) {
    return sign + Decimal(nanos, 1'000'000'000) + "s";
  }
  // Whole seconds of a minute or more: compound form, largest unit first.
  std::string out = sign;
  int64_t seconds = nanos / 1'000'000'000;
  for (auto [unit_seconds, suffix] :
       {std::pair<int64_t, const char*>{86'400, "d"}, {3'600, "h"}, {60, "m"}, {1, "s"}}) {
    if (seconds >= unit_seconds) {
      out += std::to_string(seconds / unit_seconds) + suffix;
      seconds %= unit_seconds;
    }
  }
  return out;
}

Result<Duration> ParseSecondsOrDuration(std::string_view text) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc() && end == text.data() + text.size()) {
    constexpr double kMostSeconds = 100.0 * 365 * 24 * 3600;  // a century: no overflow
    if (!(seconds >= 0 && seconds <= kMostSeconds)) {
      return ValidationError("\"" + std::string(text) +
                             "\" seconds is out of range; expected 0 to a century");
    }
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  }
  return ParseDuration(text);
}

}  // namespace rebound
