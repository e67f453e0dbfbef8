#pragma once

// `rebound sync`: runs a sync round in the daemon now (POST /v1/sync/force) and prints what
// moved; `rebound sync --status` prints the settings and the last round (GET /v1/sync).
//
//   int code = RunSyncForce(options, std::cout, std::cerr);
//   int code = RunSyncStatus(options, std::cout, std::cerr);
//
// With --json the daemon's JSON is printed as is. Exit codes as in http_client.h; a round in
// which a module had a conflict or an error is 1 too (the summary says which).

#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/client_options.h"

namespace rebound::cli {

int RunSyncForce(const ClientOptions& options, std::ostream& out, std::ostream& err);
int RunSyncStatus(const ClientOptions& options, std::ostream& out, std::ostream& err);

// "2 to store, 1 to memory, 0 unchanged, 1 conflict, 0 errors" and one line per module
// that did not stay unchanged.
void PrintSyncReport(const nlohmann::json& report, std::ostream& out);

}  // namespace rebound::cli
