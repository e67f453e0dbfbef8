#pragma once

// `rebound serve`: the daemon with its HTTP API, in the foreground.
//
//   return rebound::cli::RunServe("rebound.toml", std::cerr);   // exit code
//   return rebound::cli::RunServe("rebound.toml", std::cerr, "file:///backup/rebound.git");

#include <ostream>
#include <string>

namespace rebound::cli {

// 0 after a graceful shutdown; 1 if the config, the data directory, the lock or the listen
// address is unusable (with one clear line on `err`). `recover_from` (a git URL, "" for none):
// first restore a wiped data directory from that remote (engine/session_restore.h).
int RunServe(const std::string& config_path, std::ostream& err,
             const std::string& recover_from = "");

}  // namespace rebound::cli
