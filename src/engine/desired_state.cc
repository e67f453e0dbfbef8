#include "engine/desired_state.h"

namespace rebound::engine {

Result<DesiredState> DesiredState::Load(store::ModuleStateStore& states) {
  auto state = states.Get(kModule);
  if (!state.ok()) {
    if (state.error().category() == ErrorCategory::kNotFound) {
      return DesiredState();
    }
    return state.error();
  }
  return FromJson(state->document);
}

void DesiredState::Save(store::ModuleStateStore& states) const {
  // Unconditional: the daemon is the only writer. Not waited for: group commit makes it
  // durable within a commit interval, and the reactor never blocks on a disk flush.
  (void)states.Put(kModule, ToJson(), std::nullopt);
}

void DesiredState::SetStoppedByHand(const std::string& name, bool stopped) {
  if (stopped) {
    stopped_.insert(name);
  } else {
    stopped_.erase(name);
  }
}

int64_t DesiredState::Restarts(const std::string& name) const {
  const auto found = restarts_.find(name);
  return found == restarts_.end() ? 0 : found->second;
}

bool DesiredState::SetRestarts(const std::string& name, int64_t restarts) {
  int64_t& stored = restarts_[name];
  const bool changed = stored != restarts;
  stored = restarts;
  return changed;
}

bool DesiredState::SetRunDir(const std::string& run_dir) {
  const bool changed = run_dir_ != run_dir;
  run_dir_ = run_dir;
  return changed;
}

nlohmann::json DesiredState::ToJson() const {
  nlohmann::json json = {{"stopped_by_hand", stopped_}, {"restarts", restarts_}};
  if (!run_dir_.empty()) {
    json["run_dir"] = run_dir_;
  }
  return json;
}

DesiredState DesiredState::FromJson(const nlohmann::json& json) {
  DesiredState state;
  if (json.contains("stopped_by_hand") && json["stopped_by_hand"].is_array()) {
    for (const auto& name : json["stopped_by_hand"]) {
      if (name.is_string()) {
        state.stopped_.insert(name.get<std::string>());
      }
    }
  }
  if (json.contains("restarts") && json["restarts"].is_object()) {
    for (const auto& [name, count] : json["restarts"].items()) {
      if (count.is_number_integer()) {
        state.restarts_[name] = count.get<int64_t>();
      }
    }
  }
  if (json.contains("run_dir") && json["run_dir"].is_string()) {
    state.run_dir_ = json["run_dir"].get<std::string>();
  }
  return state;
}

}  // namespace rebound::engine
