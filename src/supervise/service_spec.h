#pragma once

// ServiceSpec: everything the supervisor needs to know about one service, as configured.
// engine/config.h builds these from the TOML file; tests build them directly.
//
//   ServiceSpec api{.name = "api", .command = {"./api", "--port", "8081"},
//                   .restart = RestartPolicy::kOnFailure};

#include <csignal>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "resilience/backoff.h"

namespace rebound::supervise {

enum class RestartPolicy { kAlways, kOnFailure, kNever };
enum class Cascade { kOneForOne, kRestForOne, kOneForAll };
enum class DependencyCondition { kStarted, kHealthy };

std::string_view RestartPolicyName(RestartPolicy policy);  // "always", "on-failure", "never"
std::string_view CascadeName(Cascade cascade);             // "one_for_one", ...
std::string_view DependencyConditionName(DependencyCondition condition);  // "started", "healthy"

struct LogRotation {
  int64_t max_bytes = 10 * 1024 * 1024;
  int keep = 5;
};

// One entry of depends_on. A required dependency must meet its condition before the service
// starts (and the start fails once the startup timeout passes); an optional one only warns.
struct Dependency {
  std::string name;
  DependencyCondition condition = DependencyCondition::kStarted;
  bool required = true;

  bool operator==(const Dependency&) const = default;
};

// "At most max_restarts restarts within `within`, then FATAL until reset."
struct Intensity {
  int max_restarts = 5;
  Duration within = std::chrono::seconds(60);
};

struct ServiceSpec {
  std::string name;
  std::vector<std::string> command;
  std::string cwd = {};  // absolute; empty = the daemon's cwd
  std::map<std::string, std::string> env = {};
  RestartPolicy restart = RestartPolicy::kAlways;
  resilience::BackoffConfig backoff = {.strategy = resilience::BackoffStrategy::kExponential,
                                       .initial = std::chrono::milliseconds(100),
                                       .factor = 2.0,
                                       .max = std::chrono::seconds(30),
                                       .jitter = resilience::Jitter::kFull};
  Intensity intensity = {};
  int stop_signal = SIGTERM;
  Duration stop_timeout = std::chrono::seconds(10);
  std::vector<Dependency> depends_on = {};
  Cascade cascade = Cascade::kOneForOne;
  LogRotation log = {};
  int line = 0;  // where the service is defined in the config file, for messages
};

// True when the two specs run the same thing the same way (`line` is ignored): a reload
// leaves such a service alone.
bool SameServiceSpec(const ServiceSpec& a, const ServiceSpec& b);

}  // namespace rebound::supervise
