#pragma once

// `rebound daemon`, `rebound reload` and `rebound state get|put`: the daemon itself and the
// module state it keeps for applications.
//
//   int code = RunDaemonInfo(options, std::cout, std::cerr);
//   int code = RunReload(options, std::cout, std::cerr);     // 1 with the config error
//   int code = RunStateGet(options, "llm", std::cout, std::cerr);
//   int code = RunStatePut(options, {.module = "llm", .document = text, .if_match = 3}, ...);
//
// Exit codes as in http_client.h (a refused reload or a version conflict is 1).

#include <optional>
#include <ostream>
#include <string>

#include "cli/client_options.h"

namespace rebound::cli {

int RunDaemonInfo(const ClientOptions& options, std::ostream& out, std::ostream& err);
int RunReload(const ClientOptions& options, std::ostream& out, std::ostream& err);

int RunStateGet(const ClientOptions& options, const std::string& module, std::ostream& out,
                std::ostream& err);

struct StatePutArgs {
  std::string module;
  std::string document = {};             // JSON text (an object)
  std::optional<int64_t> if_match = {};  // write only over this version
};

int RunStatePut(const ClientOptions& options, const StatePutArgs& args, std::ostream& out,
                std::ostream& err);

}  // namespace rebound::cli
