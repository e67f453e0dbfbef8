#include "snapshot/recovery_plan.h"

#include "snapshot/redaction.h"
#include "snapshot/timestamp.h"

namespace rebound::snapshot {
namespace {

ModuleChange PlanModule(const std::string& module, const nlohmann::json& recorded,
                        const store::ModuleState* current) {
  if (current == nullptr) {
    return {.module = module, .action = "create", .current_version = 0, .target = recorded};
  }
  nlohmann::json target = KeepRedactedValues(recorded, current->document);
  const std::string action = target == current->document ? "unchanged" : "restore";
  return {.module = module,
          .action = action,
          .current_version = current->version,
          .target = std::move(target)};
}

std::string ServiceVerb(const std::string& recorded, const std::string& current) {
  if (recorded != "running") {
    return "none";
  }
  // "stopping" too: a stop asked just before the recovery would otherwise leave it down. The
  // supervisor starts a stopping service again once it has stopped.
  return current == "stopped" || current == "stopping" || current == "exited" ||
                 current == "fatal"
             ? "start"
             : "none";
}

}  // namespace

RecoveryPlan BuildRecoveryPlan(const RecoveryDocument& document,
                               const std::vector<store::ModuleState>& current_modules,
                               const std::map<std::string, std::string>& current_services) {
  RecoveryPlan plan{.document = document};
  std::map<std::string, const store::ModuleState*> by_name;
  for (const store::ModuleState& state : current_modules) {
    by_name[state.module] = &state;
  }
  for (const auto& [module, recorded] : document.module_states) {
    const auto found = by_name.find(module);
    plan.modules.push_back(
        PlanModule(module, recorded, found == by_name.end() ? nullptr : found->second));
  }
  const bool supervised = !current_services.empty();
  for (const auto& [name, record] : document.services) {
    const auto found = current_services.find(name);
    ServiceAction action{.name = name, .recorded_state = record.state};
    if (found == current_services.end()) {
      action.action = supervised ? "unknown" : "none";
    } else {
      action.current_state = found->second;
      action.action = ServiceVerb(record.state, found->second);
    }
    plan.services.push_back(std::move(action));
  }
  return plan;
}

nlohmann::json RecoveryPlanToJson(const RecoveryPlan& plan) {
  nlohmann::json modules = nlohmann::json::array();
  for (const ModuleChange& change : plan.modules) {
    modules.push_back({{"module", change.module},
                       {"action", change.action},
                       {"current_version", change.current_version}});
    if (!change.restore_target.empty()) {
      modules.back()["restore_target"] = change.restore_target;
    }
  }
  nlohmann::json services = nlohmann::json::array();
  for (const ServiceAction& action : plan.services) {
    services.push_back({{"name", action.name},
                        {"recorded_state", action.recorded_state},
                        {"current_state", action.current_state},
                        {"action", action.action}});
  }
  return {{"commit", plan.commit},
          {"message", plan.message},
          {"timestamp", FormatUtcMillis(plan.document.timestamp_ms)},
          {"modules", modules},
          {"services", services}};
}

}  // namespace rebound::snapshot
