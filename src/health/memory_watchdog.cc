#include "health/memory_watchdog.h"

#include <algorithm>

#include "base/byte_size.h"

namespace rebound::health {

std::string_view MemoryActionName(MemoryAction action) {
  return action == MemoryAction::kRestart ? "restart" : "signal";
}

std::vector<MemoryVerdict> CheckMemory(const std::vector<MemoryReading>& readings,
                                       std::optional<int64_t> available, int64_t floor) {
  std::vector<MemoryVerdict> verdicts;
  for (const MemoryReading& reading : readings) {
    const int64_t limit = reading.limit.max_rss_bytes;
    if (limit > 0 && reading.rss_bytes > limit) {
      verdicts.push_back({reading.service, reading.limit.action, reading.limit.signal,
                          reading.rss_bytes, limit,
                          "RSS " + FormatByteSize(reading.rss_bytes) + " over its limit of " +
                              FormatByteSize(limit)});
    }
  }
  if (floor <= 0 || !available || *available >= floor || readings.empty()) {
    return verdicts;
  }
  const auto largest = std::max_element(
      readings.begin(), readings.end(),
      [](const MemoryReading& a, const MemoryReading& b) { return a.rss_bytes < b.rss_bytes; });
  const bool already = std::any_of(verdicts.begin(), verdicts.end(),
                                   [&](const MemoryVerdict& v) { return v.service == largest->service; });
  if (!already && largest->rss_bytes > 0) {
    verdicts.push_back({largest->service, largest->limit.action, largest->limit.signal,
                        *available, floor,
                        "system memory available " + FormatByteSize(*available) +
                            " below the floor of " + FormatByteSize(floor) +
                            "; it uses the most (RSS " + FormatByteSize(largest->rss_bytes) + ")"});
  }
  return verdicts;
}

}  // namespace rebound::health
