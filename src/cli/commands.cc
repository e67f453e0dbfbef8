#include "cli/commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "base/version.h"
#include "cli/check_config.h"
#include "cli/client.h"
#include "cli/client_options.h"
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
                 "daemon URL (default: $REBOUND_URL, else the config's listen)");
  app.add_option("--token", flags.token,
                 "API token (default: $REBOUND_TOKEN, else DATA_DIR/token from the config)");
  app.add_flag("--json", flags.json, "print the daemon's JSON instead of a table");

  CLI::App* serve = app.add_subcommand("serve", "Run the daemon in the foreground");
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
  SnapshotCommandLine snapshot_line;
  AddSnapshotCommands(app, snapshot_line);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (*serve) {
    return RunServe(ConfigPath(flags), std::cerr);
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
