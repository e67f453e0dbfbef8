#pragma once

// ProbeSpec: how rebound decides whether a running service is healthy, as configured in
// [services.NAME.health] (docs/configuration.md). Plain values; engine/ builds them from TOML.
//
//   ProbeSpec spec{.type = ProbeType::kHttp, .url = "http://127.0.0.1:8081/health",
//                  .interval = 1s, .timeout = 500ms, .failure_threshold = 3};
//   REBOUND_RETURN_IF_ERROR(ValidateProbeSpec(spec));

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::health {

enum class ProbeType { kHttp, kTcp, kExec, kHeartbeat, kNotify };
// "http", "tcp", "exec", "heartbeat", "notify".
std::string_view ProbeTypeName(ProbeType type);
Result<ProbeType> ParseProbeType(std::string_view name);

struct ProbeSpec {
  ProbeType type = ProbeType::kHttp;
  std::string url = {};              // http: http://HOST:PORT/PATH (no TLS)
  int status_min = 200;              // http: expected status range, inclusive
  int status_max = 399;
  std::string body_contains = {};    // http: the body must contain this (empty: any body)
  std::string host = {};             // tcp
  int port = 0;                      // tcp
  std::vector<std::string> command = {};  // exec: exits 0 within the timeout
  Duration interval = std::chrono::seconds(30);  // HEALTH_CHECK_INTERVAL in seed 001
  Duration timeout = std::chrono::seconds(5);
  int failure_threshold = 3;  // consecutive failures: healthy -> unhealthy
  int success_threshold = 1;  // consecutive successes: unhealthy -> healthy
  // Failures while the service starts do not count; a success ends the start period early.
  Duration start_period = Duration::zero();
  // notify: the WatchdogSec of systemd. The service gets WATCHDOG_USEC and must send
  // WATCHDOG=1 at least this often; 0 = no watchdog (READY=1 alone decides).
  Duration watchdog = Duration::zero();
  size_t history_size = 100;  // HEALTH_HISTORY_SIZE in seed 001
};

// Thresholds >= 1, positive interval and timeout, a probe target for the type, and so on.
// The message names the field, e.g. "failure_threshold: must be at least 1, got 0".
Status ValidateProbeSpec(const ProbeSpec& spec);

// "http://127.0.0.1:8081/health" -> host, port, path; a validation Error naming what is wrong.
struct HttpTarget {
  std::string host;
  int port = 80;
  std::string path = "/";
};
Result<HttpTarget> ParseHttpUrl(std::string_view url);

}  // namespace rebound::health
