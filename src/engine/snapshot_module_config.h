#pragma once

// The [snapshots.modules.NAME] tables (docs/configuration.md): where each application
// module's state is pulled from at capture and pushed back to on recovery.
//
//   [snapshots.modules.llm_orchestrator]
//   source = { url = "http://127.0.0.1:8080/state" }   # or { file = "..." }, { command = [...] }
//   restore = { command = ["./app", "--load-state"] }  # document on stdin; exit 0 is success
//   timeout = "5s"                                     # each read or write; default 5s
//   required = true                                    # a failing source fails the capture
//
// Errors name the file, the line, the key path and the fix. Stateless; thread-safe.

#include <map>
#include <string>

#include "engine/config_reader.h"
#include "snapshot/module_endpoint.h"

namespace rebound::engine {

// Reads the table at `entry` (snapshots.modules) into `modules`; relative file paths and
// command programs resolve against `base_dir` the way service commands do not: only files.
Status ReadSnapshotModules(const ConfigReader& reader, const ConfigEntry& entry,
                          const std::string& base_dir,
                          std::map<std::string, snapshot::ModuleBinding>& modules);

}  // namespace rebound::engine
