// The rebound binary: one entry point for the daemon, the CLI, the shim and the job
// runner (DESIGN.md).

#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "supervise/job_runner.h"
#include "supervise/shim.h"

int main(int argc, char** argv) {
  // The shim's own "--" and the service's arguments must not go through CLI11.
  if (argc >= 2 && std::string_view(argv[1]) == "shim") {
    return rebound::supervise::ShimMain(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc >= 2 && std::string_view(argv[1]) == "runner") {
    return rebound::supervise::JobRunnerMain(std::vector<std::string>(argv + 2, argv + argc));
  }
  return rebound::cli::RunCommandLine(argc, argv);
}
