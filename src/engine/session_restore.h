#pragma once

// RestoreSession: `rebound serve --recover-from URL` (seed 000's session wipe). Before the
// daemon opens its data directory: when that directory has no snapshot repository (a wiped
// or new host), clone the history from the remote, restore the newest snapshot's module
// states (SnapshotService::RecoverSnapshot, offline), and capture the restored state so the
// history's newest snapshot is it; the daemon then starts the services as usual (the
// restored "rebound.supervisor" state keeps those stopped by hand stopped). When a
// repository is already there, nothing is touched: local history is never clobbered.
//
//   auto restored = RestoreSession(config, "file:///backup/rebound.git");
//   if (!restored.ok()) { ...; return 1; }                 // nothing half-done is left
//   std::cerr << restored->summary << "\n";                 // then start the daemon
//
// REQUIRES: no daemon holds the data directory (its lock is taken meanwhile; a held lock
// is a conflict). Not thread-safe; call once, before Daemon::Create.

#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "engine/config.h"

namespace rebound::engine {

struct SessionRestore {
  bool cloned = false;           // false: a repository was already there, left as it was
  std::string summary = {};      // one line for the operator
  nlohmann::json recovery = {};  // RecoverSnapshot's answer when cloned
  std::string recovered_commit = {};
};

Result<SessionRestore> RestoreSession(const Config& config, const std::string& remote_url);

}  // namespace rebound::engine
