#pragma once

// SyncController: what the API may ask of the daemon's sync service (store/sync_service.h,
// docs/api.md "Sync"). The daemon implements it.
//
//   Result<nlohmann::json> round = controller.ForceSync();   // a round now, its report
//   nlohmann::json status = controller.SyncStatus();         // settings and the last round
//
// Results are the JSON bodies the API answers with. Implementations are thread-safe.

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace rebound::engine {

class SyncController {
 public:
  virtual ~SyncController() = default;
  // Runs a round now (after any running one) and answers its report (SyncReportToJson).
  // validation when [sync] is not configured; resource while the daemon shuts down.
  virtual Result<nlohmann::json> ForceSync() = 0;
  // {"enabled", "interval", "strategy", "modules", "rounds_total", "conflicts_total",
  //  "last_round": REPORT or null}.
  virtual nlohmann::json SyncStatus() = 0;
};

}  // namespace rebound::engine
