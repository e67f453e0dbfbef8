#include "cli/commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "base/version.h"
#include "cli/check_config.h"
#include "cli/client.h"
#include "cli/client_options.h"
#include "cli/daemon_commands.h"
#include "cli/sync_commands.h"
#include "cli/event_commands.h"
#include "cli/http_client.h"
#include "cli/job_commands.h"
#include "cli/serve.h"
#include "cli/snapshot_commands.h"
#include "engine/config.h"

namespace rebound::cli {
namespace {

struct GlobalFlags {
  std::string config;
  std::optional<std::string> url;
  std::optional<std::string> token;
  bool json = false;
};

std::string ConfigPath(const GlobalFlags& flags) {
  if (!flags.config.empty()) {
    return flags.config;
  }
  const char* from_env = std::getenv("REBOUND_CONFIG");
  return from_env != nullptr ? from_env : "rebound.toml";
}

// Where the daemon is and how to authenticate: flags and REBOUND_URL / REBOUND_TOKEN first,
// then the config file's listen address and data directory (when it can be read).
ClientOptions ResolveClient(const GlobalFlags& flags) {
  ClientInputs inputs{.url_flag = flags.url,
                      .token_flag = flags.token,
                      .json = flags.json,
                      .stdout_is_tty = ::isatty(STDOUT_FILENO) == 1};
  ReadProcessEnvironment(inputs);
  const std::string path = ConfigPath(flags);
  auto config = engine::LoadConfig(path, engine::ProcessEnvironment());
  if (!config.ok() && config.error().category() != ErrorCategory::kNotFound) {
    std::cerr << "rebound: warning: ignoring " << path << ": " << config.error().message() << "\n";
  }
  if (config.ok()) {
    const std::string& host = config->daemon.listen_host;
    inputs.listen_address = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                            std::to_string(config->daemon.listen_port);
    inputs.data_dir = config->daemon.data_dir;
  }
  return ResolveClientOptions(inputs, DefaultFileSystem());
}

constexpr const char* kExitCodes =
    "Exit codes: 0 done; 1 refused by the daemon (unknown name, bad token, conflict, invalid "
    "value, shutting down); 2 daemon unreachable, malformed reply or bad arguments.";

struct ApiCommands {
  CLI::App* events = nullptr;
  EventsArgs events_args;
  CLI::App* logs = nullptr;
  LogsArgs logs_args;
  CLI::App* daemon = nullptr;
  CLI::App* reload = nullptr;
  CLI::App* state_get = nullptr;
  CLI::App* state_put = nullptr;
  CLI::App* sync = nullptr;
  bool sync_status = false;
  std::string module;
  std::string document_file = "-";
  std::optional<int64_t> if_match;
};

void AddEventCommands(CLI::App& app, ApiCommands& commands) {
  EventsArgs& events = commands.events_args;
  commands.events = app.add_subcommand("events", "Query the event journal; --follow streams it");
  commands.events->add_option("--category", events.category, "service, daemon, ...");
  commands.events->add_option("--kind", events.kind, "exited, started, reloaded, ...");
  commands.events->add_option("--subject", events.subject, "a service name");
  commands.events->add_option("--since", events.since,
                              "Unix ms, RFC 3339 UTC time, or a duration ago (10m)");
  commands.events->add_option("--until", events.until, "as --since; exclusive");
  commands.events->add_option("--after", events.after, "only events after this sequence number");
  commands.events->add_option("--limit", events.limit, "at most this many (1-10000, default 1000)")
      ->check(CLI::Range(1, 10000));
  commands.events->add_flag("-f,--follow", events.follow,
                            "keep printing events as they happen (Ctrl-C stops); survives a "
                            "daemon restart of up to 30 s without missing an event");
  commands.logs = app.add_subcommand("logs", "Print the last lines a service wrote");
  commands.logs->add_option("NAME", commands.logs_args.service, "the service")->required();
  commands.logs->add_option("-n,--lines", commands.logs_args.lines, "how many (default 100)")
      ->check(CLI::Range(1, 10000));
  commands.logs->add_flag("-f,--follow", commands.logs_args.follow,
                          "keep printing new lines as they are written (Ctrl-C stops); survives a "
                          "daemon restart of up to 30 s, resuming after the last line printed");
}

void AddDaemonCommands(CLI::App& app, ApiCommands& commands) {
  commands.daemon = app.add_subcommand(
      "daemon", "Show the daemon: version, pid, uptime, data dir, config file and digest");
  commands.reload = app.add_subcommand(
      "reload",
      "Re-read the config file: start added services, stop removed ones, restart changed ones; "
      "a bad file is refused (exit 1) and nothing changes");
  commands.sync = app.add_subcommand(
      "sync",
      "Run a sync round now between the applications and the stored module state ([sync]); "
      "exit 1 if a module had a conflict or an error");
  commands.sync->add_flag("--status", commands.sync_status,
                          "show the sync settings and the last round instead");
  CLI::App* state = app.add_subcommand("state", "Module state documents kept by the daemon");
  state->require_subcommand(1);
  commands.state_get = state->add_subcommand("get", "Print a module's document and version");
  commands.state_get->add_option("MODULE", commands.module, "the module")->required();
  commands.state_put =
      state->add_subcommand("put", "Store a module's document (a JSON object) from FILE or stdin");
  commands.state_put->add_option("MODULE", commands.module, "the module")->required();
  commands.state_put->add_option("FILE", commands.document_file, "JSON file; - for stdin");
  commands.state_put->add_option("--if-match", commands.if_match,
                                 "write only if the stored version is still this one");
}

// The document for `state put`, from a file or stdin.
std::optional<std::string> ReadDocument(const std::string& file) {
  std::stringstream text;
  if (file == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(file);
  if (!in) {
    return std::nullopt;
  }
  text << in.rdbuf();
  return text.str();
}

std::optional<int> RunApiCommand(const ApiCommands& commands, const GlobalFlags& flags) {
  if (*commands.events) {
    return RunEvents(ResolveClient(flags), commands.events_args, std::cout, std::cerr);
  }
  if (*commands.logs) {
    return RunLogs(ResolveClient(flags), commands.logs_args, std::cout, std::cerr);
  }
  if (*commands.daemon) {
    return RunDaemonInfo(ResolveClient(flags), std::cout, std::cerr);
  }
  if (*commands.reload) {
    return RunReload(ResolveClient(flags), std::cout, std::cerr);
  }
  if (*commands.sync) {
    return commands.sync_status ? RunSyncStatus(ResolveClient(flags), std::cout, std::cerr)
                                : RunSyncForce(ResolveClient(flags), std::cout, std::cerr);
  }
  if (*commands.state_get) {
    return RunStateGet(ResolveClient(flags), commands.module, std::cout, std::cerr);
  }
  if (*commands.state_put) {
    std::optional<std::string> document = ReadDocument(commands.document_file);
    if (!document) {
      std::cerr << "rebound: cannot read " << commands.document_file << "\n";
      return kExitNoAnswer;
    }
    return RunStatePut(
        ResolveClient(flags),
        {.module = commands.module, .document = *document, .if_match = commands.if_match},
        std::cout, std::cerr);
  }
  return std::nullopt;
}

}  // namespace

int RunCommandLine(int argc, char** argv) {
  CLI::App app{
      "rebound: a self-healing recovery layer for services.\n"
      "Supervises services, detects failures, recovers them, never loses acknowledged work,\n"
      "and restores the system to any earlier snapshot.",
      "rebound"};
  app.set_version_flag("-V,--version", std::string("rebound ") + kVersion);
  app.require_subcommand(0, 1);
  app.fallthrough();  // global flags may also come after the subcommand
  GlobalFlags flags;
  app.add_option("-c,--config", flags.config,
                 "configuration file (default: $REBOUND_CONFIG, else ./rebound.toml)");
  app.add_option("--url", flags.url,
                 "daemon URL, http://HOST:PORT (default: $REBOUND_URL, else the config's listen)");
  app.add_option("--token", flags.token,
                 "API token (default: $REBOUND_TOKEN, else DATA_DIR/token from the config)");
  app.add_flag("--json", flags.json, "print the daemon's JSON instead of a table");

  CLI::App* serve = app.add_subcommand("serve", "Run the daemon in the foreground");
  std::string recover_from;
  serve->add_option("--recover-from", recover_from,
                    "git URL of the snapshot remote: if the data directory has no snapshot "
                    "history (wiped), clone it, restore the newest snapshot, then start");
  std::string check_path;
  CLI::App* check = app.add_subcommand(
      "check-config", "Validate a configuration file and print the service start order");
  check->add_option("FILE", check_path, "the TOML configuration file")->required();
  CLI::App* status = app.add_subcommand(
      "status", "Show every service (exit 0 healthy, 1 degraded, 2 daemon unreachable)");
  std::string service_name;
  std::vector<std::pair<std::string, CLI::App*>> actions;
  for (const char* action : {"start", "stop", "restart"}) {
    CLI::App* sub =
        app.add_subcommand(action, std::string("Ask the daemon to ") + action + " a service");
    sub->add_option("NAME", service_name, "the service")->required();
    actions.emplace_back(action, sub);
  }
  std::vector<std::pair<std::string, CLI::App*>> recovery_actions;
  for (const auto& [action, help] :
       {std::pair{"trigger", "Trigger a service's recovery now, skipping its cooldown"},
        std::pair{"reset", "Close a service's circuit breaker and reset its recovery state"}}) {
    CLI::App* sub = app.add_subcommand(action, help);
    sub->add_option("NAME", service_name, "the service")->required();
    recovery_actions.emplace_back(action, sub);
  }
  ApiCommands api_commands;
  AddEventCommands(app, api_commands);
  AddDaemonCommands(app, api_commands);
  app.footer(kExitCodes);
  JobCommands jobs = AddJobCommands(app);
  SnapshotCommandLine snapshot_line;
  AddSnapshotCommands(app, snapshot_line);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (*serve) {
    return RunServe(ConfigPath(flags), std::cerr, recover_from);
  }
  if (*check) {
    return RunCheckConfig(check_path, std::cout, std::cerr);
  }
  const SnapshotCommandContext snapshot_context{
      .config_path = ConfigPath(flags),
      .resolve_client = [&flags] { return ResolveClient(flags); },
      .json = flags.json};
  if (auto code = RunSnapshotCommand(snapshot_line, snapshot_context, std::cout, std::cerr)) {
    return *code;
  }
  if (*status) {
    return RunStatus(ResolveClient(flags), std::cout, std::cerr);
  }
  if (jobs.Selected()) {
    return RunJobCommand(jobs, ResolveClient(flags), std::cout, std::cerr);
  }
  if (std::optional<int> code = RunApiCommand(api_commands, flags)) {
    return *code;
  }
  for (const auto& [action, sub] : actions) {
    if (*sub) {
      return RunServiceAction(ResolveClient(flags), action, service_name, std::cout, std::cerr);
    }
  }
  for (const auto& [action, sub] : recovery_actions) {
    if (*sub) {
      return RunRecoveryAction(ResolveClient(flags), action, service_name, std::cout, std::cerr);
    }
  }
  std::cout << app.help();
  return 0;
}

}  // namespace rebound::cli
