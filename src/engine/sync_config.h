#pragma once

// The [sync] table of the configuration (docs/configuration.md): the sync service
// (store/sync_service.h) between each module's application state, reached through its
// [snapshots.modules.NAME] source and restore endpoints, and the store's module state.
//
//   [sync]                      # present: sync is on; absent: off
//   interval = "30s"            # scheduled rounds; default 30s; "0": only on demand
//   strategy = "newest-wins"    # or "memory-wins", "persistent-wins"
//   modules = ["llm"]           # default: every module with both source and restore
//
// Errors name the file, the line, the key path and the fix. Stateless; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "engine/config_reader.h"
#include "snapshot/module_endpoint.h"
#include "store/sync_service.h"

namespace rebound::engine {

struct SyncSettings {
  bool enabled = false;                          // true when the file has a [sync] table
  Duration interval = std::chrono::seconds(30);  // zero: rounds only on demand
  store::SyncStrategy strategy = store::SyncStrategy::kNewestWins;
  std::vector<std::string> modules = {};  // resolved by ResolveSyncModules
  int line = 0;                           // of [sync], for errors found later
};

// Reads the table at `entry` onto `settings` and sets `enabled`.
Status ReadSyncSettings(const ConfigReader& reader, const ConfigEntry& entry,
                        SyncSettings& settings);

// Once [snapshots.modules] is read too: checks that each listed module has both a source and
// a restore endpoint, or, with no list, fills it with every module that has both. Nothing to
// sync while sync is enabled is an error. A no-op when sync is disabled.
Status ResolveSyncModules(const ConfigReader& reader,
                          const std::map<std::string, snapshot::ModuleBinding>& bindings,
                          SyncSettings& settings);

}  // namespace rebound::engine
