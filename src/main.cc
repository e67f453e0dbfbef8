// The rebound binary: one entry point for the daemon, the CLI and the shim (DESIGN.md).
// Today it offers --version and --help; each later layer adds its subcommands here.

#include <CLI/CLI.hpp>
#include <iostream>

#include "base/version.h"
#include "cli/check_config.h"

int main(int argc, char** argv) {
  CLI::App app{
      "rebound: a self-healing recovery layer for services.\n"
      "Supervises services, detects failures, recovers them, never loses acknowledged work,\n"
      "and restores the system to any earlier snapshot.",
      "rebound"};
  app.set_version_flag("-V,--version", std::string("rebound ") + rebound::kVersion);
  app.require_subcommand(0);

  std::string check_config_path;
  CLI::App* check_config = app.add_subcommand(
      "check-config", "Validate a configuration file and print the service start order");
  check_config->add_option("FILE", check_config_path, "the TOML configuration file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (*check_config) {
    return rebound::cli::RunCheckConfig(check_config_path, std::cout, std::cerr);
  }
  if (argc == 1) {
    std::cout << app.help();
  }
  return 0;
}
