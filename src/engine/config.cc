#include "engine/config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <sys/un.h>

#include "base/checksum.h"
#include "base/duration.h"
#include "base/path.h"
#include "engine/config_reader.h"
#include "engine/queue_config.h"
#include "engine/service_config.h"
#include "engine/snapshot_config.h"
#include "engine/sync_config.h"
#include "supervise/dependency_graph.h"
#include "supervise/job_runner.h"

namespace rebound::engine {
namespace {

const std::vector<std::string> kTopLevelKeys = {"daemon", "defaults", "services", "queues",
                                                "jobs",     "snapshots", "sync"};
const std::vector<std::string> kDaemonKeys = {"data_dir",        "run_dir",
                                              "listen",          "log_level",
                                              "startup_timeout", "dependency_check_interval",
                                              "memory_floor",    "memory_check_interval"};
constexpr Duration kShortestDaemonInterval = std::chrono::milliseconds(1);
const std::vector<std::string> kLogLevels = {"trace", "debug", "info", "warn", "error"};
constexpr std::string_view kDefaultDataDir = ".rebound";
constexpr int kMaxPort = 65535;

constexpr std::string_view kNoServicesHelp =
    "at least one service is needed; add a [services.NAME] table, e.g.\n"
    "  [services.web]\n"
    "  command = [\"./web\", \"--port\", \"8080\"]";

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "127.0.0.1:7300", "localhost:7300" or "[::1]:7300"; nullopt if malformed.
std::optional<ListenAddress> ParseListenAddress(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return std::nullopt;  // an IPv6 address needs brackets to tell it from the port
    }
  }
  int port_number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (host.empty() || port.empty() || error != std::errc() || end != port.data() + port.size() ||
      port_number < 1 || port_number > kMaxPort) {
    return std::nullopt;
  }
  return ListenAddress{std::string(host), port_number};
}

// The problem with a [daemon] value, or "" if it is fine. Shared by the file and the
// environment overrides so both are validated the same way.
std::string DaemonValueProblem(std::string_view key, std::string_view value) {
  if (key == "listen" && !ParseListenAddress(value)) {
    return "invalid address \"" + std::string(value) +
           "\"; expected host:port with a port from 1 to 65535, e.g. \"127.0.0.1:7300\" or "
           "\"[::1]:7300\"";
  }
  if (key == "log_level" &&
      std::find(kLogLevels.begin(), kLogLevels.end(), value) == kLogLevels.end()) {
    return "unknown value \"" + std::string(value) +
           "\"; expected one of: " + JoinNames(kLogLevels);
  }
  if (key == "data_dir" && value.empty()) {
    return "must not be empty; e.g. data_dir = \".rebound\"";
  }
  if (key == "run_dir" && value.empty()) {
    return "must not be empty; leave run_dir out to keep the services' records in "
           "DATA_DIR/run, or name a directory on a tmpfs, e.g. run_dir = \"/run/rebound\"";
  }
  return "";
}

void SetDaemonValue(std::string_view key, const std::string& value, const std::string& base_dir,
                    DaemonSettings& daemon) {
  if (key == "listen") {
    const ListenAddress address = *ParseListenAddress(value);
    daemon.listen_host = address.host;
    daemon.listen_port = address.port;
  } else if (key == "log_level") {
    daemon.log_level = value;
  } else if (key == "run_dir") {
    daemon.run_dir = JoinPath(base_dir, value);
  } else {
    daemon.data_dir = JoinPath(base_dir, value);
  }
}

// The [daemon] durations by key; nullptr for the other keys.
Duration* DaemonInterval(std::string_view key, DaemonSettings& daemon) {
  return key == "startup_timeout"             ? &daemon.startup_timeout
         : key == "dependency_check_interval" ? &daemon.dependency_check_interval
         : key == "memory_check_interval"     ? &daemon.memory_check_interval
                                              : nullptr;
}

Status ReadDaemon(const ConfigReader& reader, const ConfigEntry& entry, const std::string& base_dir,
                  DaemonSettings& daemon) {
  auto table = reader.Table(*entry.value, "daemon");
  if (!table.ok()) {
    return table.error();
  }
  for (const ConfigEntry& setting : InFileOrder(**table)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(setting, "daemon", kDaemonKeys));
    const std::string path = "daemon." + setting.key;
    if (setting.key == "memory_floor") {
      REBOUND_RETURN_IF_ERROR(Assign(reader.ByteSize(*setting.value, path), daemon.memory_floor));
      continue;
    }
    if (Duration* interval = DaemonInterval(setting.key, daemon)) {
      REBOUND_RETURN_IF_ERROR(Assign(
          reader.DurationValue(*setting.value, path, kShortestDaemonInterval), *interval));
      continue;
    }
    auto value = reader.String(*setting.value, path);
    if (!value.ok()) {
      return value.error();
    }
    const std::string problem = DaemonValueProblem(setting.key, *value);
    if (!problem.empty()) {
      return reader.ErrorAt(*setting.value, path, problem);
    }
    SetDaemonValue(setting.key, *value, base_dir, daemon);
  }
  return OkStatus();
}

// REBOUND_DATA_DIR, REBOUND_RUN_DIR, REBOUND_LISTEN and REBOUND_LOG_LEVEL win over [daemon].
Status ApplyEnvironmentOverrides(const std::map<std::string, std::string>& env,
                                 const std::string& base_dir, DaemonSettings& daemon) {
  constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kOverrides = {{
      {"REBOUND_DATA_DIR", "data_dir"},
      {"REBOUND_RUN_DIR", "run_dir"},
      {"REBOUND_LISTEN", "listen"},
      {"REBOUND_LOG_LEVEL", "log_level"},
  }};
  for (const auto& [variable, key] : kOverrides) {
    const auto found = env.find(std::string(variable));
    if (found == env.end()) {
      continue;
    }
    const std::string problem = DaemonValueProblem(key, found->second);
    if (!problem.empty()) {
      return ValidationError("environment variable " + std::string(variable) +
                             " (overrides daemon." + std::string(key) + "): " + problem);
    }
    SetDaemonValue(key, found->second, base_dir, daemon);
  }
  for (const char* variable : {"STARTUP_TIMEOUT", "DEPENDENCY_CHECK_INTERVAL"}) {
    const auto found = env.find(variable);
    if (found == env.end()) {
      continue;
    }
    auto duration = ParseSecondsOrDuration(found->second);
    if (!duration.ok() || *duration < kShortestDaemonInterval) {
      return ValidationError("environment variable " + std::string(variable) + ": \"" +
                             found->second +
                             "\" is not a positive number of seconds such as 300 or \"5m\"");
    }
    *DaemonInterval(variable == std::string("STARTUP_TIMEOUT") ? "startup_timeout"
                                                               : "dependency_check_interval",
                    daemon) = *duration;
  }
  return OkStatus();
}

// What services inherit: the built-in defaults, then [defaults], then the environment.
struct Defaults {
  ServiceSpec spec;
  ServiceReliability reliability = BuiltinReliability();
};

Result<Defaults> ReadDefaults(const ConfigReader& reader, const toml::table& document,
                              const std::map<std::string, std::string>& env) {
  Defaults defaults;
  if (const toml::node* node = document.get("defaults")) {
    auto table = reader.Table(*node, "defaults");
    if (!table.ok()) {
      return table.error();
    }
    REBOUND_RETURN_IF_ERROR(ApplyServiceSettings(reader, **table, "defaults", defaults.spec,
                                                 defaults.reliability));
  }
  REBOUND_RETURN_IF_ERROR(ApplyReliabilityEnvironment(env, defaults.reliability));
  return defaults;
}

Status ReadServices(const ConfigReader& reader, const ConfigEntry& entry, const Defaults& defaults,
                    const std::string& base_dir, Config& config) {
  auto table = reader.Table(*entry.value, "services");
  if (!table.ok()) {
    return table.error();
  }
  const std::vector<ConfigEntry> entries = InFileOrder(**table);
  std::vector<std::string> names;
  for (const ConfigEntry& service : entries) {
    names.push_back(service.key);
  }
  const ServiceContext context{.defaults = defaults.spec,
                               .reliability_defaults = defaults.reliability,
                               .service_names = names,
                               .base_dir = base_dir};
  for (const ConfigEntry& service : entries) {
    ServiceReliability reliability;
    auto spec = ReadService(reader, service, context, reliability);
    if (!spec.ok()) {
      return spec.error();
    }
    config.reliability[spec->name] = std::move(reliability);
    config.services.push_back(std::move(*spec));
  }
  return OkStatus();
}

// depends_on = "healthy" needs a way to tell: a [health] table on the dependency.
Status CheckHealthyDependencies(const ConfigReader& reader, const Config& config) {
  for (const ServiceSpec& service : config.services) {
    for (const supervise::Dependency& dependency : service.depends_on) {
      if (dependency.condition == DependencyCondition::kHealthy &&
          !config.FindReliability(dependency.name)->health) {
        return reader.ErrorAt(
            service.line, "services." + service.name + ".depends_on." + dependency.name,
            "\"healthy\" needs a health check on " + dependency.name + "; add a [services." +
                dependency.name + ".health] table (e.g. type = \"tcp\", address = "
                "\"127.0.0.1:6379\") or use \"started\"");
      }
    }
  }
  return OkStatus();
}

Result<std::vector<std::string>> StartOrder(const ConfigReader& reader,
                                            const std::vector<ServiceSpec>& services) {
  supervise::DependencyGraph graph;
  for (const ServiceSpec& service : services) {
    std::vector<std::string> depends_on;
    for (const supervise::Dependency& dependency : service.depends_on) {
      depends_on.push_back(dependency.name);
    }
    REBOUND_RETURN_IF_ERROR(graph.AddService(service.name, depends_on));
  }
  auto order = graph.StartOrder();
  if (!order.ok()) {
    return reader.ErrorAt(0, "",
                          order.error().message() + "; remove one of these depends_on entries");
  }
  return order;
}

Result<toml::table> ParseToml(const ConfigReader& reader, std::string_view text) {
  try {
    return toml::parse(text, std::string_view(reader.file()));
  } catch (const toml::parse_error& error) {
    const toml::source_position where = error.source().begin;
    return ValidationError(reader.file() + ":" + std::to_string(where.line) + ":" +
                           std::to_string(where.column) +
                           ": TOML syntax error: " + std::string(error.description()));
  }
}

// Every top-level key in file order; [defaults] is read first (services need it) but its
// error is reported where it appears, so the first error in the file wins.
Status ReadDocument(const ConfigReader& reader, const toml::table& document,
                    const std::string& base_dir, const std::map<std::string, std::string>& env,
                    Config& config) {
  const Result<Defaults> defaults = ReadDefaults(reader, document, env);
  if (!defaults.ok() && document.get("defaults") == nullptr) {
    return defaults.error();  // an environment variable, not a table in the file
  }
  const Defaults builtin_defaults;
  for (const ConfigEntry& entry : InFileOrder(document)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(entry, "", kTopLevelKeys));
    if (entry.key == "daemon") {
      REBOUND_RETURN_IF_ERROR(ReadDaemon(reader, entry, base_dir, config.daemon));
    } else if (entry.key == "defaults") {
      REBOUND_RETURN_IF_ERROR(defaults.ok() ? OkStatus() : Status(defaults.error()));
    } else if (entry.key == "queues") {
      REBOUND_RETURN_IF_ERROR(ReadQueues(reader, entry, config.queues));
    } else if (entry.key == "jobs") {
      REBOUND_RETURN_IF_ERROR(ReadJobSettings(reader, entry, config.job_retention, config.job_runner_shared));
    } else if (entry.key == "snapshots") {
      REBOUND_RETURN_IF_ERROR(ReadSnapshotSettings(reader, entry, base_dir, config.snapshots));
    } else if (entry.key == "sync") {
      REBOUND_RETURN_IF_ERROR(ReadSyncSettings(reader, entry, config.sync));
    } else {
      REBOUND_RETURN_IF_ERROR(ReadServices(
          reader, entry, defaults.ok() ? *defaults : builtin_defaults, base_dir, config));
    }
  }
  if (config.services.empty()) {
    return reader.ErrorAt(0, "", kNoServicesHelp);
  }
  return ResolveSyncModules(reader, config.snapshots.modules, config.sync);
}

// The shared job runner listens on DATA_DIR/run/job:runner.sock, which must fit a unix socket
// address (107 bytes), or no job could start. Asked for by name, a longer path is an error;
// by default the jobs run under a shim each instead, and job_runner_fallback says why (the
// daemon logs it as a warning at start).
Status CheckJobRunnerSocket(const ConfigReader& reader, const toml::table& document,
                            Config& config) {
  constexpr size_t kMaxSocketPath = sizeof(sockaddr_un{}.sun_path) - 1;
  const std::string socket =
      supervise::JobRunnerSocketPath(JoinPath(config.daemon.data_dir, "run"));
  if (!config.job_runner_shared || socket.size() <= kMaxSocketPath) {
    return OkStatus();
  }
  const std::string why = "the job runner's socket " + socket + " would be " +
                          std::to_string(socket.size()) + " bytes, over the " +
                          std::to_string(kMaxSocketPath) + " a unix socket allows";
  if (const toml::node* runner = document.at_path("jobs.runner").node()) {
    return reader.ErrorAt(*runner, "jobs.runner",
                          why + "; use a shorter [daemon] data_dir, or runner = \"per-job\"");
  }
  config.job_runner_shared = false;
  config.job_runner_fallback = why + ": jobs run under a shim each ([jobs] runner = \"per-job\"); "
                               "use a shorter [daemon] data_dir for the shared runner";
  return OkStatus();
}

}  // namespace

const ServiceReliability* Config::FindReliability(const std::string& name) const {
  const auto found = reliability.find(name);
  return found == reliability.end() ? nullptr : &found->second;
}

const ServiceSpec* Config::FindService(std::string_view name) const {
  for (const ServiceSpec& service : services) {
    if (service.name == name) {
      return &service;
    }
  }
  return nullptr;
}

Result<Config> ParseConfig(std::string_view text, const std::string& source_path,
                           const std::map<std::string, std::string>& env) {
  const ConfigReader reader(source_path);
  Config config;
  if (IsAbsolutePath(source_path)) {
    config.path = NormalizePath(source_path);
  } else {
    auto cwd = CurrentDirectory();
    if (!cwd.ok()) {
      return cwd.error().WithContext("resolving " + source_path);
    }
    config.path = JoinPath(*cwd, source_path);
  }
  const std::string base_dir = DirName(config.path);
  config.daemon.data_dir = JoinPath(base_dir, kDefaultDataDir);
  config.digest = Xxh3Hex(text);
  auto document = ParseToml(reader, text);
  if (!document.ok()) {
    return document.error();
  }
  REBOUND_RETURN_IF_ERROR(ReadDocument(reader, *document, base_dir, env, config));
  REBOUND_RETURN_IF_ERROR(ApplyEnvironmentOverrides(env, base_dir, config.daemon));
  REBOUND_RETURN_IF_ERROR(CheckJobRunnerSocket(reader, *document, config));
  auto order = StartOrder(reader, config.services);
  if (!order.ok()) {
    return order.error();
  }
  config.start_order = std::move(*order);
  REBOUND_RETURN_IF_ERROR(CheckHealthyDependencies(reader, config));
  return config;
}

Result<Config> LoadConfig(FileSystem& fs, const std::string& path,
                          const std::map<std::string, std::string>& env) {
  auto text = fs.ReadFile(path);
  if (!text.ok()) {
    return text.error().WithContext("reading config file");
  }
  return ParseConfig(*text, path, env);
}

Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env) {
  return LoadConfig(DefaultFileSystem(), path, env);
}

std::string ServicesRunDir(const DaemonSettings& daemon) {
  return daemon.run_dir.empty() ? JoinPath(daemon.data_dir, "run") : daemon.run_dir;
}

}  // namespace rebound::engine
