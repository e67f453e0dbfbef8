#include "engine/service_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <csignal>

#include "base/path.h"

namespace rebound::engine {
namespace {

using resilience::BackoffConfig;

constexpr std::array<std::pair<RestartPolicy, std::string_view>, 3> kRestartNames = {{
    {RestartPolicy::kAlways, "always"},
    {RestartPolicy::kOnFailure, "on-failure"},
    {RestartPolicy::kNever, "never"},
}};

constexpr std::array<std::pair<Cascade, std::string_view>, 3> kCascadeNames = {{
    {Cascade::kOneForOne, "one_for_one"},
    {Cascade::kRestForOne, "rest_for_one"},
    {Cascade::kOneForAll, "one_for_all"},
}};

constexpr std::array<std::pair<DependencyCondition, std::string_view>, 2> kConditionNames = {{
    {DependencyCondition::kStarted, "started"},
    {DependencyCondition::kHealthy, "healthy"},
}};

constexpr std::array<std::pair<int, std::string_view>, 7> kStopSignals = {{
    {SIGTERM, "SIGTERM"},
    {SIGINT, "SIGINT"},
    {SIGQUIT, "SIGQUIT"},
    {SIGHUP, "SIGHUP"},
    {SIGUSR1, "SIGUSR1"},
    {SIGUSR2, "SIGUSR2"},
    {SIGKILL, "SIGKILL"},
}};

constexpr int64_t kMaxRestartsLimit = 10'000;
constexpr int64_t kMaxRotatedFiles = 1'000;
constexpr Duration kShortestInterval = std::chrono::milliseconds(1);
constexpr size_t kMaxServiceNameLength = 64;

const std::vector<std::string> kBackoffKeys = {"strategy", "initial", "increment",
                                               "factor",   "max",     "jitter"};
const std::vector<std::string> kIntensityKeys = {"max_restarts", "within"};
const std::vector<std::string> kLogKeys = {"max_bytes", "keep"};


// Maps an error of a resilience/ parser (which knows nothing of files) onto the node.
template <typename T>
Result<T> NamedAt(const ConfigReader& reader, const toml::node& node, std::string_view path,
                  Result<T> result) {
  if (!result.ok()) {
    return reader.ErrorAt(node, path, result.error().message());
  }
  return result;
}

Status ApplyBackoffEntry(const ConfigReader& reader, const ConfigEntry& entry,
                         const std::string& path, BackoffConfig& backoff) {
  const toml::node& node = *entry.value;
  if (entry.key == "factor") {
    return Assign(reader.Number(node, path), backoff.factor);
  }
  if (entry.key == "strategy" || entry.key == "jitter") {
    auto name = reader.String(node, path);
    if (!name.ok()) {
      return name.error();
    }
    return entry.key == "strategy"
               ? Assign(NamedAt(reader, node, path, resilience::ParseBackoffStrategy(*name)),
                        backoff.strategy)
               : Assign(NamedAt(reader, node, path, resilience::ParseJitter(*name)),
                        backoff.jitter);
  }
  Duration& field = entry.key == "initial" ? backoff.initial
                    : entry.key == "max"   ? backoff.max
                                           : backoff.increment;
  return Assign(reader.DurationValue(node, path, Duration::zero()), field);
}

Status ApplySetting(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                    ServiceSpec& spec) {
  const toml::node& node = *entry.value;
  if (entry.key == "restart") {
    return Assign(reader.Choice(node, path, kRestartNames), spec.restart);
  }
  if (entry.key == "cascade") {
    return Assign(reader.Choice(node, path, kCascadeNames), spec.cascade);
  }
  if (entry.key == "stop_signal") {
    return Assign(ParseStopSignal(reader, node, path), spec.stop_signal);
  }
  if (entry.key == "stop_timeout") {
    return Assign(reader.DurationValue(node, path, kShortestInterval), spec.stop_timeout);
  }
  if (entry.key == "backoff") {
    return ForEachEntry(reader, node, path, kBackoffKeys, [&](const ConfigEntry& e, auto p) {
      return ApplyBackoffEntry(reader, e, p, spec.backoff);
    });
  }
  if (entry.key == "intensity") {
    return ForEachEntry(reader, node, path, kIntensityKeys, [&](const ConfigEntry& e, auto p) {
      return e.key == "max_restarts" ? Assign(reader.Integer(*e.value, p, 1, kMaxRestartsLimit),
                                              spec.intensity.max_restarts)
                                     : Assign(reader.DurationValue(*e.value, p, kShortestInterval),
                                              spec.intensity.within);
    });
  }
  // The only inheritable key left is "log"; callers have checked the key.
  return ForEachEntry(reader, node, path, kLogKeys, [&](const ConfigEntry& e, auto p) {
    return e.key == "max_bytes"
               ? Assign(reader.ByteSize(*e.value, p), spec.log.max_bytes)
               : Assign(reader.Integer(*e.value, p, 0, kMaxRotatedFiles), spec.log.keep);
  });
}

// The whole-backoff rules (max >= initial, factor >= 1) once every field is known.
Status CheckBackoff(const ConfigReader& reader, int line, std::string_view path,
                    const BackoffConfig& backoff) {
  auto valid = resilience::ValidateBackoffConfig(backoff);
  if (!valid.ok()) {
    return reader.ErrorAt(line, path, valid.error().message());
  }
  return OkStatus();
}

const std::vector<std::string> kServiceOnlyKeys = {"command", "cwd", "env", "depends_on",
                                                   "health"};

Status CheckServiceName(const ConfigReader& reader, const ConfigEntry& entry) {
  const std::string& name = entry.key;
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
  if (name.empty() || name.size() > kMaxServiceNameLength || !valid_chars) {
    return reader.ErrorAt(
        entry.line, "services",
        "invalid service name \"" + name + "\"; use 1 to 64 characters from A-Z a-z 0-9 _ . -");
  }
  return OkStatus();
}

Result<std::vector<std::string>> ReadCommand(const ConfigReader& reader, const toml::node* node,
                                             int service_line, const std::string& path) {
  return reader.Command(node, service_line, path, "command = [\"./api\", \"--port\", \"8081\"]");
}

Status ReadEnv(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
               std::map<std::string, std::string>& env) {
  return ForEachEntry(reader, *entry.value, path, kAnyKey,
                      [&](const ConfigEntry& e, auto p) -> Status {
                        if (e.key.empty() || e.key.find('=') != std::string::npos) {
                          return reader.ErrorAt(e.line, path,
                                                "invalid variable name \"" + e.key +
                                                    "\"; it must be non-empty "
                                                    "and must not contain '='");
                        }
                        return Assign(reader.String(*e.value, p), env[e.key]);
                      });
}

const std::vector<std::string> kDependencyKeys = {"condition", "required"};

// `db = "healthy"`, or `db = { condition = "healthy", required = false }`.
Status ReadDependency(const ConfigReader& reader, const ConfigEntry& entry,
                      const std::string& path, supervise::Dependency& dependency) {
  if (!entry.value->is_table()) {
    return Assign(reader.Choice(*entry.value, path, kConditionNames), dependency.condition);
  }
  return ForEachEntry(reader, *entry.value, path, kDependencyKeys,
                      [&](const ConfigEntry& e, auto p) -> Status {
                        if (e.key == "condition") {
                          return Assign(reader.Choice(*e.value, p, kConditionNames),
                                        dependency.condition);
                        }
                        return Assign(reader.Bool(*e.value, p), dependency.required);
                      });
}

Status ReadDependsOn(const ConfigReader& reader, const ConfigEntry& entry, const std::string& path,
                     const std::vector<std::string>& service_names, ServiceSpec& spec) {
  return ForEachEntry(
      reader, *entry.value, path, kAnyKey, [&](const ConfigEntry& e, auto p) -> Status {
        if (std::find(service_names.begin(), service_names.end(), e.key) == service_names.end()) {
          const std::string suggestion = ClosestMatch(e.key, service_names);
          return reader.ErrorAt(
              e.line, path,
              "unknown service \"" + e.key + "\"; " +
                  (suggestion.empty() ? "defined services: " + JoinNames(service_names)
                                      : "did you mean \"" + suggestion + "\"?"));
        }
        supervise::Dependency dependency{.name = e.key};
        REBOUND_RETURN_IF_ERROR(ReadDependency(reader, e, p, dependency));
        spec.depends_on.push_back(std::move(dependency));
        return OkStatus();
      });
}

Status ApplyServiceOnlyKey(const ConfigReader& reader, const ConfigEntry& entry,
                           const std::string& path, const ServiceContext& context,
                           ServiceSpec& spec) {
  if (entry.key == "command") {
    return Assign(ReadCommand(reader, entry.value, entry.line, path), spec.command);
  }
  if (entry.key == "env") {
    return ReadEnv(reader, entry, path, spec.env);
  }
  if (entry.key == "depends_on") {
    return ReadDependsOn(reader, entry, path, context.service_names, spec);
  }
  auto cwd = reader.String(*entry.value, path);
  if (!cwd.ok()) {
    return cwd.error();
  }
  if (cwd->empty()) {
    return reader.ErrorAt(*entry.value, path,
                          "must not be empty; leave it out to run in the config file's "
                          "directory");
  }
  spec.cwd = JoinPath(context.base_dir, *cwd);
  return OkStatus();
}

std::vector<std::string> ServiceKeys() {
  std::vector<std::string> keys = kServiceOnlyKeys;
  keys.insert(keys.end(), InheritableServiceKeys().begin(), InheritableServiceKeys().end());
  return keys;
}

bool IsReliabilityKey(const std::string& key) {
  const auto& keys = ReliabilityKeys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

Result<int> ParseStopSignal(const ConfigReader& reader, const toml::node& node,
                            std::string_view path) {
  auto text = reader.String(node, path);
  if (!text.ok()) {
    return text.error();
  }
  std::string upper;
  for (char c : *text) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::vector<std::string> names;
  for (const auto& [signal, name] : kStopSignals) {
    if (name == upper || name.substr(3) == upper) {
      return signal;
    }
    names.emplace_back(name);
  }
  return reader.UnknownValue(node, path, *text, names);
}

std::string StopSignalName(int signal) {
  for (const auto& [number, name] : kStopSignals) {
    if (number == signal) {
      return std::string(name);
    }
  }
  return "signal " + std::to_string(signal);
}

resilience::BackoffConfig DefaultServiceBackoff() {
  return {.strategy = resilience::BackoffStrategy::kExponential,
          .initial = std::chrono::milliseconds(100),
          .increment = std::chrono::milliseconds(100),
          .factor = 2.0,
          .max = std::chrono::seconds(30),
          .jitter = resilience::Jitter::kFull};
}

Result<ServiceSpec> ReadService(const ConfigReader& reader, const ConfigEntry& entry,
                                const ServiceContext& context, ServiceReliability& reliability) {
  REBOUND_RETURN_IF_ERROR(CheckServiceName(reader, entry));
  const std::string path = "services." + entry.key;
  auto table = reader.Table(*entry.value, path);
  if (!table.ok()) {
    return table.error();
  }
  ServiceSpec spec = context.defaults;
  reliability = context.reliability_defaults;
  spec.name = entry.key;
  spec.cwd = context.base_dir;
  spec.line = entry.line;
  int backoff_line = entry.line;
  static const std::vector<std::string> service_keys = ServiceKeys();
  for (const ConfigEntry& setting : InFileOrder(**table)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(setting, path, service_keys));
    const std::string key_path = Child(path, setting.key);
    if (IsReliabilityKey(setting.key)) {
      REBOUND_RETURN_IF_ERROR(ApplyReliabilityEntry(reader, setting, key_path, reliability));
      continue;
    }
    const bool service_only = std::find(kServiceOnlyKeys.begin(), kServiceOnlyKeys.end(),
                                        setting.key) != kServiceOnlyKeys.end();
    REBOUND_RETURN_IF_ERROR(service_only
                                ? ApplyServiceOnlyKey(reader, setting, key_path, context, spec)
                                : ApplySetting(reader, setting, key_path, spec));
    backoff_line = setting.key == "backoff" ? setting.line : backoff_line;
  }
  if (spec.command.empty()) {
    return ReadCommand(reader, nullptr, entry.line, Child(path, "command")).error();
  }
  REBOUND_RETURN_IF_ERROR(CheckBackoff(reader, backoff_line, path, spec.backoff));
  return spec;
}

const std::vector<std::string>& InheritableServiceKeys() {
  static const std::vector<std::string> keys = {
      "restart", "backoff",  "intensity", "stop_signal", "stop_timeout",
      "cascade", "log",      "recovery",  "breaker",     "memory"};
  return keys;
}

Status ApplyServiceSettings(const ConfigReader& reader, const toml::table& table,
                            std::string_view table_path, ServiceSpec& spec,
                            ServiceReliability& reliability) {
  int backoff_line = static_cast<int>(table.source().begin.line);
  for (const ConfigEntry& entry : InFileOrder(table)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(entry, table_path, InheritableServiceKeys()));
    const std::string key_path = Child(table_path, entry.key);
    REBOUND_RETURN_IF_ERROR(IsReliabilityKey(entry.key)
                                ? ApplyReliabilityEntry(reader, entry, key_path, reliability)
                                : ApplySetting(reader, entry, key_path, spec));
    if (entry.key == "backoff") {
      backoff_line = entry.line;
    }
  }
  return CheckBackoff(reader, backoff_line, table_path, spec.backoff);
}

}  // namespace rebound::engine
