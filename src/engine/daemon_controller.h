#pragma once

// DaemonController: what the API may ask of the daemon itself (as opposed to its services,
// see service_controller.h). The engine's Daemon implements it; api/ consumes it; tests use
// testing/FakeDaemonController.
//
//   DaemonInfo info = controller.Info();                     // GET /v1/daemon
//   Result<ReloadOutcome> outcome = controller.Reload();     // POST /v1/daemon/reload, SIGHUP
//   if (!outcome.ok()) Print(outcome.error().message());    // "rebound.toml:7: ..."; nothing
//   changed
//
// Thread-safe; called from API threads.

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::engine {

struct DaemonInfo {
  std::string version = {};
  int64_t pid = 0;
  int64_t started_at_ms = 0;  // Unix milliseconds
  double uptime_seconds = 0;
  std::string data_dir = {};
  std::string config_path = {};
  std::string config_digest = {};  // of the configuration in force (changes on reload)
  std::string listen = {};         // "127.0.0.1:7300"
  int64_t services = 0;
};

// What a reload did, by service name (each sorted).
struct ReloadOutcome {
  std::vector<std::string> added = {};      // started
  std::vector<std::string> removed = {};    // stopping, then forgotten
  std::vector<std::string> changed = {};    // restarted with the new spec
  std::vector<std::string> unchanged = {};  // left alone, still running
  std::string config_digest = {};           // of the configuration now in force
};

class DaemonController {
 public:
  virtual ~DaemonController() = default;

  virtual DaemonInfo Info() = 0;
  // Re-reads the configuration file and applies the difference. A file that does not load
  // or validate is refused with its error (validation, not_found) and nothing changes;
  // resource while shutting down; conflict while an earlier reload still removes services.
  virtual Result<ReloadOutcome> Reload() = 0;
};

}  // namespace rebound::engine
