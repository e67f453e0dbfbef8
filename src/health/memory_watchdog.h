#pragma once

// Memory watchdog: which services to act on because of memory. A service over its own RSS
// limit (its whole process group) gets its configured action; when the system's available
// memory falls below the floor, the service using the most memory does, so that one restart
// frees memory before the kernel's OOM killer picks a victim at random.
//
//   std::vector<MemoryVerdict> verdicts =
//       CheckMemory(readings, /*available=*/read_meminfo(), /*floor=*/256 << 20);
//   for (auto& v : verdicts) v.action == MemoryAction::kRestart ? Restart(v.service) : ...
//
// Pure; thread-safe. Reading the numbers is memory_sampler_posix.cc's job.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace rebound::health {

enum class MemoryAction { kRestart, kSignal };
std::string_view MemoryActionName(MemoryAction action);  // "restart", "signal"

struct MemoryLimit {
  int64_t max_rss_bytes = 0;  // 0: no limit of its own
  MemoryAction action = MemoryAction::kRestart;
  int signal = 15;  // SIGTERM, for kSignal
};

struct MemoryReading {
  std::string service;
  int64_t rss_bytes = 0;
  MemoryLimit limit;
};

struct MemoryVerdict {
  std::string service;
  MemoryAction action;
  int signal;
  int64_t measured_bytes;  // the service's RSS, or the system's available memory
  int64_t limit_bytes;     // its max_rss, or the floor
  std::string reason;      // "RSS 612MB over its limit of 512MB"
};

// `available`: MemAvailable, or nullopt when unknown; floor 0 turns the system check off.
std::vector<MemoryVerdict> CheckMemory(const std::vector<MemoryReading>& readings,
                                       std::optional<int64_t> available, int64_t floor);

// Total RSS per process group, from one pass over /proc (cheap enough for every check).
Result<std::map<int, int64_t>> RssByProcessGroup();
// MemAvailable from /proc/meminfo.
Result<int64_t> SystemAvailableMemory();

}  // namespace rebound::health
