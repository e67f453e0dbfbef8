#include "engine/reliability_config.h"

#include <array>
#include <charconv>
#include <tuple>

#include "base/duration.h"
#include "engine/service_config.h"
#include "store/module_state.h"

namespace rebound::engine {
namespace {

using health::ProbeSpec;
using resilience::CircuitBreakerConfig;

constexpr Duration kShortest = std::chrono::milliseconds(1);
constexpr int64_t kMaxThreshold = 1000;
constexpr int64_t kMaxAttempts = 1000;
constexpr int64_t kMaxHistory = 100'000;
constexpr int64_t kMaxWindow = 10'000;

constexpr std::array<std::pair<RecoveryStep, std::string_view>, 4> kStepNames = {{
    {RecoveryStep::kResetBreaker, "reset_breaker"},
    {RecoveryStep::kRestart, "restart"},
    {RecoveryStep::kExec, "exec"},
    {RecoveryStep::kRestoreModule, "restore_module"},
}};

constexpr std::array<std::pair<health::MemoryAction, std::string_view>, 2> kMemoryActions = {{
    {health::MemoryAction::kRestart, "restart"},
    {health::MemoryAction::kSignal, "signal"},
}};

const std::vector<std::string> kHealthKeys = {
    "type",    "url",         "status",           "body_contains",     "address",
    "command", "interval",    "timeout",          "failure_threshold", "success_threshold",
    "start_period", "watchdog", "history"};
const std::vector<std::string> kRecoveryKeys = {"auto",         "actions",        "cooldown",
                                                "max_attempts", "backoff",        "delay",
                                                "exec",         "exec_timeout",   "verify_timeout",
                                                "notify_url",   "restore_modules"};
const std::vector<std::string> kBreakerKeys = {"window",        "minimum_calls",
                                               "failure_rate",  "open_duration",
                                               "half_open_calls", "slow_call_duration",
                                               "slow_call_rate"};
const std::vector<std::string> kMemoryKeys = {"max_rss", "action", "signal"};

Result<std::vector<std::string>> StringArray(const ConfigReader& reader, const toml::node& node,
                                             const std::string& path, std::string_view example) {
  const auto bad = [&] {
    return reader.ErrorAt(node, path,
                          "must be a non-empty array of strings, e.g. " + std::string(example));
  };
  if (!node.is_array() || node.as_array()->empty()) {
    return bad();
  }
  std::vector<std::string> values;
  for (const toml::node& element : *node.as_array()) {
    if (!element.is_string() || element.as_string()->get().empty()) {
      return bad();
    }
    values.push_back(element.as_string()->get());
  }
  return values;
}

// 200, "200" or "200-399".
Status ReadStatusRange(const ConfigReader& reader, const toml::node& node, const std::string& path,
                       ProbeSpec& spec) {
  if (node.is_integer()) {
    auto code = reader.Integer(node, path, 100, 599);
    if (!code.ok()) {
      return code.error();
    }
    spec.status_min = spec.status_max = static_cast<int>(*code);
    return OkStatus();
  }
  auto text = reader.String(node, path);
  if (!text.ok()) {
    return text.error();
  }
  const size_t dash = text->find('-');
  const std::string low = text->substr(0, dash);
  const std::string high = dash == std::string::npos ? low : text->substr(dash + 1);
  auto parse = [](const std::string& s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  if (!parse(low, spec.status_min) || !parse(high, spec.status_max) || spec.status_min < 100 ||
      spec.status_max > 599 || spec.status_min > spec.status_max) {
    return reader.ErrorAt(node, path,
                          "invalid status range \"" + *text +
                              "\"; expected a code or a range within 100-599, e.g. \"200-399\"");
  }
  return OkStatus();
}

// "127.0.0.1:6379" or "[::1]:6379".
Status ReadAddress(const ConfigReader& reader, const toml::node& node, const std::string& path,
                   ProbeSpec& spec) {
  auto text = reader.String(node, path);
  if (!text.ok()) {
    return text.error();
  }
  auto target = health::ParseHttpUrl("http://" + *text + "/");
  const size_t colon = text->rfind(':');
  const size_t bracket = text->rfind(']');
  const bool has_port = colon != std::string::npos &&
                        (bracket == std::string::npos || colon > bracket);
  if (!target.ok() || !has_port) {
    return reader.ErrorAt(node, path,
                          "invalid address \"" + *text +
                              "\"; expected HOST:PORT, e.g. \"127.0.0.1:6379\" or \"[::1]:6379\"");
  }
  spec.host = target->host;
  spec.port = target->port;
  return OkStatus();
}

Status ApplyProbeDuration(const ConfigReader& reader, const ConfigEntry& e,
                          const std::string& p, ProbeSpec& spec) {
  const bool may_be_zero = e.key == "start_period" || e.key == "watchdog";
  Duration& field = e.key == "interval"       ? spec.interval
                    : e.key == "timeout"      ? spec.timeout
                    : e.key == "start_period" ? spec.start_period
                                              : spec.watchdog;
  return Assign(reader.DurationValue(*e.value, p, may_be_zero ? Duration::zero() : kShortest),
                field);
}

Status ApplyProbeKey(const ConfigReader& reader, const ConfigEntry& e, const std::string& p,
                     ProbeSpec& spec) {
  const toml::node& node = *e.value;
  if (e.key == "type") {
    auto name = reader.String(node, p);
    if (!name.ok()) {
      return name.error();
    }
    auto type = health::ParseProbeType(*name);
    return type.ok() ? Assign(type, spec.type) : reader.ErrorAt(node, p, type.error().message());
  }
  if (e.key == "url" || e.key == "body_contains") {
    return Assign(reader.String(node, p), e.key == "url" ? spec.url : spec.body_contains);
  }
  if (e.key == "status") {
    return ReadStatusRange(reader, node, p, spec);
  }
  if (e.key == "address") {
    return ReadAddress(reader, node, p, spec);
  }
  if (e.key == "command") {
    return Assign(StringArray(reader, node, p, "[\"redis-cli\", \"ping\"]"), spec.command);
  }
  if (e.key == "failure_threshold" || e.key == "success_threshold") {
    return Assign(reader.Integer(node, p, 1, kMaxThreshold),
                  e.key == "failure_threshold" ? spec.failure_threshold : spec.success_threshold);
  }
  if (e.key == "history") {
    return Assign(reader.Integer(node, p, 1, kMaxHistory), spec.history_size);
  }
  return ApplyProbeDuration(reader, e, p, spec);
}

Status ReadHealth(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                  ServiceReliability& reliability) {
  ProbeSpec spec = reliability.health.value_or(reliability.probe_defaults);
  bool has_type = false;
  REBOUND_RETURN_IF_ERROR(
      ForEachEntry(reader, *entry.value, path, kHealthKeys, [&](const ConfigEntry& e, auto p) {
        has_type = has_type || e.key == "type";
        return ApplyProbeKey(reader, e, p, spec);
      }));
  if (!has_type) {
    return reader.ErrorAt(entry.line, path,
                          "needs a type: one of http, tcp, exec, heartbeat, notify; e.g. "
                          "type = \"http\" with url = \"http://127.0.0.1:8081/health\"");
  }
  auto valid = health::ValidateProbeSpec(spec);
  if (!valid.ok()) {
    return reader.ErrorAt(entry.line, path, valid.error().message());
  }
  reliability.health = std::move(spec);
  return OkStatus();
}

Result<std::vector<RecoveryStep>> ReadSteps(const ConfigReader& reader, const toml::node& node,
                                            const std::string& path) {
  auto names = StringArray(reader, node, path, "[\"reset_breaker\", \"restart\"]");
  if (!names.ok()) {
    return names.error();
  }
  std::vector<RecoveryStep> steps;
  for (const std::string& name : *names) {
    bool found = false;
    for (const auto& [step, step_name] : kStepNames) {
      if (step_name == name) {
        steps.push_back(step);
        found = true;
      }
    }
    if (!found) {
      return reader.ErrorAt(node, path,
                            "unknown action \"" + name +
                                "\"; expected any of: reset_breaker, restart, exec, "
                                "restore_module");
    }
  }
  return steps;
}

Status ApplyRecoveryKey(const ConfigReader& reader, const ConfigEntry& e, const std::string& p,
                        RecoverySpec& recovery) {
  const toml::node& node = *e.value;
  resilience::AutoRecoveryConfig& controller = recovery.controller;
  if (e.key == "auto") {
    return Assign(reader.Bool(node, p), recovery.automatic);
  }
  if (e.key == "actions") {
    return Assign(ReadSteps(reader, node, p), recovery.actions);
  }
  if (e.key == "max_attempts") {
    return Assign(reader.Integer(node, p, 1, kMaxAttempts), controller.max_attempts);
  }
  if (e.key == "backoff") {
    auto factor = reader.Number(node, p);
    if (factor.ok() && (*factor < 1.0 || *factor > 100.0)) {
      return reader.ErrorAt(node, p, "must be between 1.0 and 100.0 (a multiplier), e.g. 2.0");
    }
    return Assign(factor, controller.backoff);
  }
  if (e.key == "exec") {
    return Assign(StringArray(reader, node, p, "[\"./flush-cache\"]"), recovery.exec);
  }
  if (e.key == "restore_modules") {
    auto modules = StringArray(reader, node, p, "[\"llm_orchestrator\"]");
    for (const std::string& module : modules.value_or({})) {
      if (Status valid = store::ValidateModuleName(module); !valid.ok()) {
        return reader.ErrorAt(node, p, valid.error().message());
      }
    }
    return Assign(std::move(modules), recovery.restore_modules);
  }
  if (e.key == "notify_url") {
    auto url = reader.String(node, p);
    if (url.ok() && !health::ParseHttpUrl(*url).ok()) {
      return reader.ErrorAt(node, p, health::ParseHttpUrl(*url).error().message());
    }
    return Assign(url, recovery.notify_url);
  }
  Duration& field = e.key == "cooldown"       ? controller.cooldown
                    : e.key == "delay"        ? controller.attempt_delay
                    : e.key == "exec_timeout" ? recovery.exec_timeout
                                              : recovery.verify_timeout;
  const bool may_be_zero = e.key == "cooldown" || e.key == "verify_timeout" || e.key == "delay";
  return Assign(reader.DurationValue(node, p, may_be_zero ? Duration::zero() : kShortest), field);
}

Status ReadRecovery(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                    RecoverySpec& recovery) {
  REBOUND_RETURN_IF_ERROR(
      ForEachEntry(reader, *entry.value, path, kRecoveryKeys, [&](const ConfigEntry& e, auto p) {
        return ApplyRecoveryKey(reader, e, p, recovery);
      }));
  const bool wants_exec = std::find(recovery.actions.begin(), recovery.actions.end(),
                                    RecoveryStep::kExec) != recovery.actions.end();
  if (wants_exec && recovery.exec.empty()) {
    return reader.ErrorAt(entry.line, path,
                          "actions include \"exec\" but no exec command is set; add e.g. "
                          "exec = [\"./flush-cache\"]");
  }
  const bool wants_restore = std::find(recovery.actions.begin(), recovery.actions.end(),
                                       RecoveryStep::kRestoreModule) != recovery.actions.end();
  if (wants_restore && recovery.restore_modules.empty()) {
    return reader.ErrorAt(entry.line, path,
                          "actions include \"restore_module\" but restore_modules is not set; "
                          "add e.g. restore_modules = [\"llm_orchestrator\"]");
  }
  return OkStatus();
}

Status ApplyBreakerKey(const ConfigReader& reader, const ConfigEntry& e, const std::string& p,
                       CircuitBreakerConfig& breaker) {
  const toml::node& node = *e.value;
  if (e.key == "window" || e.key == "minimum_calls" || e.key == "half_open_calls") {
    int& field = e.key == "window"          ? breaker.window_size
                 : e.key == "minimum_calls" ? breaker.minimum_calls
                                            : breaker.half_open_calls;
    return Assign(reader.Integer(node, p, 1, kMaxWindow), field);
  }
  if (e.key == "failure_rate" || e.key == "slow_call_rate") {
    auto rate = reader.Number(node, p);
    if (rate.ok() && !(*rate > 0.0 && *rate <= 1.0)) {
      return reader.ErrorAt(node, p, "must be a rate in (0, 1], e.g. 0.5 for 50%");
    }
    return Assign(rate, e.key == "failure_rate" ? breaker.failure_rate_threshold
                                                : breaker.slow_call_rate_threshold);
  }
  return Assign(reader.DurationValue(node, p, e.key == "open_duration" ? kShortest : Duration{}),
                e.key == "open_duration" ? breaker.open_duration : breaker.slow_call_duration);
}

Status ReadBreaker(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                   CircuitBreakerConfig& breaker) {
  REBOUND_RETURN_IF_ERROR(
      ForEachEntry(reader, *entry.value, path, kBreakerKeys, [&](const ConfigEntry& e, auto p) {
        return ApplyBreakerKey(reader, e, p, breaker);
      }));
  auto valid = resilience::ValidateCircuitBreakerConfig(breaker);
  if (!valid.ok()) {
    return reader.ErrorAt(entry.line, path, valid.error().message());
  }
  return OkStatus();
}

Status ReadMemory(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                  health::MemoryLimit& memory) {
  return ForEachEntry(reader, *entry.value, path, kMemoryKeys,
                      [&](const ConfigEntry& e, auto p) -> Status {
                        if (e.key == "max_rss") {
                          return Assign(reader.ByteSize(*e.value, p), memory.max_rss_bytes);
                        }
                        if (e.key == "action") {
                          return Assign(reader.Choice(*e.value, p, kMemoryActions), memory.action);
                        }
                        return Assign(ParseStopSignal(reader, *e.value, p), memory.signal);
                      });
}

}  // namespace

std::string_view RecoveryStepName(RecoveryStep step) {
  return kStepNames[static_cast<size_t>(step)].second;
}

const std::vector<std::string>& ReliabilityKeys() {
  static const std::vector<std::string> keys = {"health", "recovery", "breaker", "memory"};
  return keys;
}

const std::vector<std::string>& InheritableReliabilityKeys() {
  static const std::vector<std::string> keys = {"recovery", "breaker", "memory"};
  return keys;
}

Status ApplyReliabilityEntry(const ConfigReader& reader, const ConfigEntry& entry,
                             const std::string& path, ServiceReliability& reliability) {
  if (entry.key == "health") {
    return ReadHealth(reader, entry, path, reliability);
  }
  if (entry.key == "recovery") {
    return ReadRecovery(reader, entry, path, reliability.recovery);
  }
  if (entry.key == "breaker") {
    return ReadBreaker(reader, entry, path, reliability.breaker);
  }
  return ReadMemory(reader, entry, path, reliability.memory);
}

namespace {

auto ProbeFields(const ProbeSpec& p) {
  return std::tie(p.type, p.url, p.status_min, p.status_max, p.body_contains, p.host, p.port,
                  p.command, p.interval, p.timeout, p.failure_threshold, p.success_threshold,
                  p.start_period, p.watchdog, p.history_size);
}

auto RecoveryFields(const RecoverySpec& r) {
  return std::tie(r.automatic, r.actions, r.controller.cooldown, r.controller.max_attempts,
                  r.controller.backoff, r.controller.attempt_delay, r.exec, r.exec_timeout,
                  r.verify_timeout, r.notify_url, r.restore_modules);
}

auto BreakerFields(const CircuitBreakerConfig& c) {
  return std::tie(c.window_kind, c.window_size, c.minimum_calls, c.failure_rate_threshold,
                  c.slow_call_rate_threshold, c.slow_call_duration, c.open_duration,
                  c.half_open_calls);
}

}  // namespace

bool SameReliability(const ServiceReliability& a, const ServiceReliability& b) {
  const bool same_health = a.health.has_value() == b.health.has_value() &&
                           (!a.health || ProbeFields(*a.health) == ProbeFields(*b.health));
  return same_health && RecoveryFields(a.recovery) == RecoveryFields(b.recovery) &&
         BreakerFields(a.breaker) == BreakerFields(b.breaker) &&
         std::tie(a.memory.max_rss_bytes, a.memory.action, a.memory.signal) ==
             std::tie(b.memory.max_rss_bytes, b.memory.action, b.memory.signal);
}

ServiceReliability BuiltinReliability() {
  ServiceReliability defaults;
  // Probes feed the breaker about once an interval: a short window, so that five failed
  // probes in a row open it (seed 001: "5 failures within threshold").
  defaults.breaker = {.window_size = 10, .minimum_calls = 5, .failure_rate_threshold = 0.5,
                      .open_duration = std::chrono::seconds(30), .half_open_calls = 3};
  return defaults;
}

Status ApplyReliabilityEnvironment(const std::map<std::string, std::string>& env,
                                   ServiceReliability& defaults) {
  ProbeSpec& probe = defaults.probe_defaults;
  const auto bad = [](const std::string& variable, const std::string& fix) {
    return ValidationError("environment variable " + variable + ": " + fix);
  };
  for (const auto& [variable, value] : env) {
    if (variable == "RECOVERY_INTERVAL" || variable == "HEALTH_CHECK_INTERVAL") {
      auto duration = ParseSecondsOrDuration(value);
      if (!duration.ok() || (variable == "HEALTH_CHECK_INTERVAL" && *duration <= Duration{})) {
        return bad(variable, "\"" + value + "\" is not a number of seconds such as 60 or \"60s\"");
      }
      (variable == "RECOVERY_INTERVAL" ? defaults.recovery.controller.cooldown : probe.interval) =
          *duration;
    } else if (variable == "MAX_RECOVERY_ATTEMPTS" || variable == "HEALTH_HISTORY_SIZE") {
      const int64_t most = variable == "MAX_RECOVERY_ATTEMPTS" ? kMaxAttempts : kMaxHistory;
      int64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec != std::errc() || end != value.data() + value.size() || number < 1 ||
          number > most) {
        return bad(variable, "\"" + value + "\" is not a whole number from 1 to " +
                                 std::to_string(most));
      }
      if (variable == "MAX_RECOVERY_ATTEMPTS") {
        defaults.recovery.controller.max_attempts = static_cast<int>(number);
      } else {
        probe.history_size = static_cast<size_t>(number);
      }
    } else if (variable == "RECOVERY_BACKOFF") {
      double factor = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), factor);
      if (ec != std::errc() || end != value.data() + value.size() || !(factor >= 1.0) ||
          !(factor <= 100.0)) {
        return bad(variable, "\"" + value + "\" is not a multiplier from 1.0 to 100.0, e.g. 2.0");
      }
      defaults.recovery.controller.backoff = factor;
    }
  }
  return OkStatus();
}

}  // namespace rebound::engine
