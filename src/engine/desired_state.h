#pragma once

// DesiredState: what a person decided about services, kept across daemon restarts: which
// services were stopped by hand (a daemon that crashes and comes back must not start them
// again), and each service's restart count (so re-adoption does not reset it). Stored as the
// module state "rebound.supervisor" in the store.
//
//   DesiredState desired = DesiredState::Load(store.states());   // at daemon start
//   supervisor.Preset(name, !desired.IsStoppedByHand(name), desired.Restarts(name));
//   desired.SetStoppedByHand("worker", true);
//   desired.Save(store.states());   // queued for group commit; never waited on
//
// Not thread-safe (the reactor owns it).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "store/module_state.h"

namespace rebound::engine {

class DesiredState {
 public:
  static constexpr const char* kModule = "rebound.supervisor";

  // An absent or unreadable record reads as "nothing decided" (logged by the caller).
  static Result<DesiredState> Load(store::ModuleStateStore& states);
  void Save(store::ModuleStateStore& states) const;

  bool IsStoppedByHand(const std::string& name) const { return stopped_.count(name) > 0; }
  void SetStoppedByHand(const std::string& name, bool stopped);
  int64_t Restarts(const std::string& name) const;
  // True if the count changed (and is worth saving).
  bool SetRestarts(const std::string& name, int64_t restarts);

  // The services' run directory the last daemon used ("" before rebound recorded it, when
  // it was always DATA_DIR/run): a daemon configured with another one must not start
  // duplicates of shims recorded there (Daemon::CheckRunDir).
  const std::string& run_dir() const { return run_dir_; }
  // True if it changed (and is worth saving).
  bool SetRunDir(const std::string& run_dir);

  nlohmann::json ToJson() const;
  static DesiredState FromJson(const nlohmann::json& json);

 private:
  std::set<std::string> stopped_;
  std::map<std::string, int64_t> restarts_;
  std::string run_dir_;
};

}  // namespace rebound::engine
