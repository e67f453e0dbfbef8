#pragma once

// RecoveryPlan: what recovering to a snapshot would change, worked out before anything is
// changed, so `--dry-run` can show exactly what a real recovery does.
//
//   RecoveryPlan plan = BuildRecoveryPlan(document, current_modules, current_services);
//   for (const ModuleChange& change : plan.modules) ...   // "restore", "create", "unchanged"
//   for (const ServiceAction& action : plan.services) ...  // "start", "none", "unknown"
//
// A module holds its snapshot document (redacted values keep their current value, see
// redaction.h); modules created after the snapshot are left as they are. A service recorded
// "running" that is now stopped, exited or fatal is started; one in backoff restarts by
// itself; one the configuration no longer has is reported as "unknown".
// Pure values and functions; thread-safe.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "snapshot/recovery_document.h"
#include "store/module_state.h"

namespace rebound::snapshot {

struct ModuleChange {
  std::string module = {};
  std::string action = {};      // "restore", "create", "unchanged"
  int64_t current_version = 0;  // 0: absent now; the CAS expectation of the restore
  nlohmann::json target = {};   // the document it will hold
  // The module's restore target (DescribeEndpoint), pushed `target` even when the store is
  // unchanged: the application may have lost what the store still has. "": none configured.
  std::string restore_target = {};
};

struct ServiceAction {
  std::string name = {};
  std::string recorded_state = {};
  std::string current_state = {};  // "" when the service is unknown now
  std::string action = {};         // "start", "none", "unknown"
};

struct RecoveryPlan {
  std::string commit = {};
  std::string message = {};
  RecoveryDocument document = {};
  std::vector<ModuleChange> modules = {};
  std::vector<ServiceAction> services = {};
};

// `current_services`: name -> state now (empty when no daemon supervises them).
RecoveryPlan BuildRecoveryPlan(const RecoveryDocument& document,
                               const std::vector<store::ModuleState>& current_modules,
                               const std::map<std::string, std::string>& current_services);

nlohmann::json RecoveryPlanToJson(const RecoveryPlan& plan);

}  // namespace rebound::snapshot
