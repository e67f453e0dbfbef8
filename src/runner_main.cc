// rebound-runner: `rebound runner` (supervise/job_runner.h) as a small executable of its own,
// like rebound-shim: it links only the runner's code. The daemon runs it as
// `rebound runner --run-dir ...` (argv[1] is "runner"), exactly like `rebound runner`, so the
// /proc check that finds it again does not depend on which of the two runs.

#include <string>
#include <string_view>
#include <vector>

#include "supervise/job_runner.h"

int main(int argc, char** argv) {
  const int first = argc >= 2 && std::string_view(argv[1]) == "runner" ? 2 : 1;
  return rebound::supervise::JobRunnerMain(std::vector<std::string>(argv + first, argv + argc));
}
