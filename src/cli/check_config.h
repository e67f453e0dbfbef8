#pragma once

// `rebound check-config FILE`: validates a config file without starting anything, so a
// deploy script can refuse a bad file before the daemon reads it.
//
//   int code = RunCheckConfig("rebound.toml", std::cout, std::cerr);
//   // out: "rebound.toml: ok: 3 services, start order: db, api, worker"     -> 0
//   // err: "rebound.toml:12: services.api.restart: unknown value ..."        -> 1
//   // err: "reading config file: open rebound.toml: No such file ..."        -> 2
//
// The environment overrides (REBOUND_*) of this process apply, as they would for the daemon.
// Thread-safe if the streams are not shared.

#include <map>
#include <ostream>
#include <string>

#include "base/file_system.h"

namespace rebound::cli {

// Exit codes: 0 valid, 1 invalid, 2 unreadable.
int RunCheckConfig(const std::string& path, std::ostream& out, std::ostream& err);
// The same reading through `fs` with an explicit environment (for tests).
int RunCheckConfig(FileSystem& fs, const std::string& path,
                   const std::map<std::string, std::string>& env, std::ostream& out,
                   std::ostream& err);

}  // namespace rebound::cli
