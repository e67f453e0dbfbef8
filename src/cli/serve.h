#pragma once

// `rebound serve`: the daemon with its HTTP API, in the foreground.
//
//   return rebound::cli::RunServe("rebound.toml", std::cerr);   // exit code

#include <ostream>
#include <string>

namespace rebound::cli {

// 0 after a graceful shutdown; 1 if the config, the data directory, the lock or the listen
// address is unusable (with one clear line on `err`).
int RunServe(const std::string& config_path, std::ostream& err);

}  // namespace rebound::cli
