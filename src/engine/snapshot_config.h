#pragma once

// The [snapshots] table of the configuration (docs/configuration.md):
//
//   [snapshots]
//   path = "snapshots"                         # the git repository; default DATA_DIR/snapshots
//   document_path = "config/recovery.json"     # commit into the application's repo at `path`
//   redact = ["*key*", "*token*", "*secret*", "*password*", "*pin*"]
//   interval = "1h"                            # scheduled capture; "0" (default): off
//   on_shutdown = true                         # capture on graceful shutdown; default false
//   remote = "file:///backup/rebound.git"      # pushed to after each capture; default none
//   keep = 100                                 # newest N plus tagged ones; 0 (default): all
//   verify_timeout = "30s"                     # wait for restarted services to be healthy
//   before_recovery = true                     # capture when an automatic recovery starts
//   on_events = ["service.fatal"]              # capture when such an event is journaled
//   trigger_interval = "1m"                    # each trigger fires at most this often
//   [snapshots.modules.NAME]                   # engine/snapshot_module_config.h
//   source = { url = "http://127.0.0.1:8080/state" }
//
// Read by config.cc; errors name the file, the line, the key path and the fix, with a
// did-you-mean for a misspelt key. Stateless; thread-safe.

#include <map>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "engine/config_reader.h"
#include "snapshot/module_endpoint.h"

namespace rebound::engine {

struct SnapshotSettings {
  std::string repository_path = {};  // absolute; "" until resolved: DATA_DIR/snapshots
  // "": repository_path is rebound's own bare repository. Otherwise the path of the document
  // inside the application's existing repository at repository_path (which must be set), e.g.
  // "config/recovery.json"; keep must then be 0 (snapshot::GitStoreOptions::document_path).
  std::string document_path = {};
  // Glob patterns of keys whose values are never stored (snapshot/redaction.h).
  std::vector<std::string> redact = {"*key*", "*token*", "*secret*", "*password*"};
  Duration interval = Duration::zero();  // zero: no scheduled capture
  bool on_shutdown = false;              // capture before services are stopped
  std::string remote = {};               // git URL pushed to after each capture; "": none
  int keep = 0;  // retention: the newest N snapshots plus every tagged one; 0: keep all
  // After a recovery starts services, how long to wait for them to be healthy; zero: no wait.
  Duration verify_timeout = std::chrono::seconds(30);
  bool before_recovery = false;             // capture when a service's recovery starts
  std::vector<std::string> on_events = {};  // "category.kind" of journal events to capture on
  Duration trigger_interval = std::chrono::minutes(1);  // per trigger (and service)
  // Module name -> where its state is pulled from and restored to.
  std::map<std::string, snapshot::ModuleBinding> modules = {};
};

// Reads the table at `entry` onto `settings`; relative paths resolve against `base_dir`.
Status ReadSnapshotSettings(const ConfigReader& reader, const ConfigEntry& entry,
                            const std::string& base_dir, SnapshotSettings& settings);

// `settings.repository_path`, or DATA_DIR/snapshots when it is not set.
std::string SnapshotRepositoryPath(const SnapshotSettings& settings, const std::string& data_dir);

}  // namespace rebound::engine
