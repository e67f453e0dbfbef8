#include "health/probe_spec.h"

#include <array>
#include <charconv>

#include "base/duration.h"

namespace rebound::health {
namespace {

constexpr std::array<std::string_view, 5> kTypeNames = {"http", "tcp", "exec", "heartbeat",
                                                        "notify"};
constexpr int kMaxThreshold = 1000;
constexpr size_t kMaxHistory = 100'000;

Status CheckThreshold(std::string_view field, int value) {
  if (value < 1 || value > kMaxThreshold) {
    return ValidationError(std::string(field) + ": must be between 1 and " +
                           std::to_string(kMaxThreshold) + ", got " + std::to_string(value));
  }
  return OkStatus();
}

Status CheckTarget(const ProbeSpec& spec) {
  switch (spec.type) {
    case ProbeType::kHttp: {
      auto target = ParseHttpUrl(spec.url);
      return target.ok() ? OkStatus() : Status(target.error());
    }
    case ProbeType::kTcp:
      if (spec.host.empty() || spec.port < 1 || spec.port > 65535) {
        return ValidationError(
            "address: a tcp probe needs HOST:PORT with a port from 1 to 65535, e.g. "
            "address = \"127.0.0.1:6379\"");
      }
      return OkStatus();
    case ProbeType::kExec:
      if (spec.command.empty() || spec.command.front().empty()) {
        return ValidationError(
            "command: an exec probe needs a non-empty command, e.g. command = "
            "[\"redis-cli\", \"ping\"]");
      }
      return OkStatus();
    case ProbeType::kHeartbeat:
    case ProbeType::kNotify:
      return OkStatus();
  }
  return OkStatus();
}

}  // namespace

std::string_view ProbeTypeName(ProbeType type) { return kTypeNames[static_cast<size_t>(type)]; }

Result<ProbeType> ParseProbeType(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) {
      return static_cast<ProbeType>(i);
    }
  }
  return ValidationError("unknown probe type \"" + std::string(name) +
                         "\"; expected one of: http, tcp, exec, heartbeat, notify");
}

Status ValidateProbeSpec(const ProbeSpec& spec) {
  REBOUND_RETURN_IF_ERROR(CheckThreshold("failure_threshold", spec.failure_threshold));
  REBOUND_RETURN_IF_ERROR(CheckThreshold("success_threshold", spec.success_threshold));
  if (spec.interval <= Duration::zero()) {
    return ValidationError("interval: must be positive");
  }
  if (spec.timeout <= Duration::zero()) {
    return ValidationError("timeout: must be positive");
  }
  if (spec.start_period < Duration::zero() || spec.watchdog < Duration::zero()) {
    return ValidationError("start_period and watchdog must not be negative");
  }
  if (spec.status_min < 100 || spec.status_max > 599 || spec.status_min > spec.status_max) {
    return ValidationError("status: expected a range within 100-599 such as \"200-399\", got " +
                           std::to_string(spec.status_min) + "-" +
                           std::to_string(spec.status_max));
  }
  if (spec.type == ProbeType::kNotify && spec.watchdog == Duration::zero() &&
      spec.success_threshold > 1) {
    return ValidationError(
        "success_threshold: a notify probe without a watchdog has one success to count "
        "(READY=1); leave success_threshold at 1, or set a watchdog so that WATCHDOG=1 pings "
        "count too");
  }
  if (spec.history_size < 1 || spec.history_size > kMaxHistory) {
    return ValidationError("history: must be between 1 and " + std::to_string(kMaxHistory));
  }
  return CheckTarget(spec);
}

Result<HttpTarget> ParseHttpUrl(std::string_view url) {
  const auto bad = [&](const std::string& why) {
    return ValidationError("url: \"" + std::string(url) + "\" " + why +
                           "; expected http://HOST:PORT/PATH, e.g. "
                           "\"http://127.0.0.1:8081/health\"");
  };
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return bad(url.substr(0, 8) == "https://" ? "uses https, which probes do not speak"
                                              : "is not an http:// URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpTarget target;
  target.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  const size_t colon = authority.rfind(':');
  const bool bracketed = !authority.empty() && authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    std::string_view port_text = authority.substr(colon + 1);
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(),
                                     target.port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || target.port < 1 ||
        target.port > 65535) {
      return bad("has an invalid port");
    }
    authority = authority.substr(0, colon);
  }
  if (bracketed) {
    if (authority.size() < 3 || authority.back() != ']') {
      return bad("has an invalid IPv6 host");
    }
    authority = authority.substr(1, authority.size() - 2);
  }
  const bool valid_host =
      !authority.empty() && authority.find_first_of(" @/?#[]") == std::string_view::npos;
  if (!valid_host) {
    return bad("has no valid host");
  }
  target.host = std::string(authority);
  return target;
}

}  // namespace rebound::health
