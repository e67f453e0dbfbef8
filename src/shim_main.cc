// rebound-shim: `rebound shim` as a small executable of its own. It links only what the
// shim uses, so each of the (many) shims starts faster and maps far less memory than the
// full rebound binary would. The daemon runs it as `rebound shim --name ...` (argv[1] is
// "shim"), exactly like `rebound shim`, so records and /proc checks do not depend on which
// of the two runs.

#include <string>
#include <string_view>
#include <vector>

#include "supervise/shim.h"

int main(int argc, char** argv) {
  const int first = argc >= 2 && std::string_view(argv[1]) == "shim" ? 2 : 1;
  return rebound::supervise::ShimMain(std::vector<std::string>(argv + first, argv + argc));
}
