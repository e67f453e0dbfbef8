#include "snapshot/timestamp.h"

#include <chrono>
#include <cstdio>

namespace rebound::snapshot {
namespace {

Error BadTimestamp(std::string_view text) {
  return ValidationError("timestamp \"" + std::string(text) +
                         "\" is not understood; use UTC as 2025-11-25T23:30:00Z (optionally "
                         "with .123 milliseconds) or seconds since the epoch");
}

bool AllDigits(std::string_view text) {
  if (text.empty() || text.size() > 12) {
    return false;
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string FormatUtcMillis(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(epoch_ms)};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss clock{time - day};
  char text[40];
  std::snprintf(
      text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
      static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

Result<int64_t> ParseTimestampMillis(std::string_view text) {
  if (AllDigits(text)) {
    return std::stoll(std::string(text)) * 1000;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &consumed) != 6) {
    return BadTimestamp(text);
  }
  std::string_view rest = text.substr(static_cast<size_t>(consumed));
  int64_t millis = 0;
  if (rest.starts_with('.')) {
    std::string_view digits = rest.substr(1, 3);
    if (digits.size() != 3 || !AllDigits(digits)) {
      return BadTimestamp(text);
    }
    millis = std::stoll(std::string(digits));
    rest.remove_prefix(4);
  }
  if (rest != "" && rest != "Z") {
    return BadTimestamp(text);
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(month),
                            std::chrono::day(day)};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return BadTimestamp(text);
  }
  const auto time = sys_days(date) + hours(hour) + minutes(minute) + seconds(second);
  return duration_cast<milliseconds>(time.time_since_epoch()).count() + millis;
}

}  // namespace rebound::snapshot
