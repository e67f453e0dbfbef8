// The rebound binary: one entry point for the daemon, the CLI and the shim (DESIGN.md).
// Today it offers --version, --help and the internal `shim`; each later layer adds its
// subcommands here.

#include <CLI/CLI.hpp>
#include <iostream>

#include "base/version.h"
#include "supervise/shim.h"

int main(int argc, char** argv) {
  // The shim's own "--" and the service's arguments must not go through CLI11.
  if (argc >= 2 && std::string_view(argv[1]) == "shim") {
    return rebound::supervise::ShimMain(std::vector<std::string>(argv + 2, argv + argc));
  }
  CLI::App app{
      "rebound: a self-healing recovery layer for services.\n"
      "Supervises services, detects failures, recovers them, never loses acknowledged work,\n"
      "and restores the system to any earlier snapshot.",
      "rebound"};
  app.set_version_flag("-V,--version", std::string("rebound ") + rebound::kVersion);
  app.require_subcommand(0);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (argc == 1) {
    std::cout << app.help();
  }
  return 0;
}
