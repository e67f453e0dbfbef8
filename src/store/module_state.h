#pragma once

// ModuleStateStore: one JSON document per application module, versioned, so that two
// writers never silently overwrite each other.
//
//   ModuleStateStore states(*database, writer, clock);
//   auto v1 = states.Put("llm_orchestrator", {{"current_model", "gpt-4"}}, std::nullopt).get();
//   // Compare-and-set: succeeds only if the stored version is still v1->version.
//   auto v2 = states.Put("llm_orchestrator", doc, v1->version).get();
//   // A stale writer gets a conflict Error naming both versions.
//   Result<ModuleState> now = states.Get("llm_orchestrator");
//
// Versions start at 1 and grow by one per write. expected_version 0 means "must not exist".
// Thread-safe. Database, writer and clock must outlive the store.

#include <cstdint>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "store/database.h"
#include "store/group_commit.h"

namespace rebound::store {

struct ModuleState {
  std::string module;
  nlohmann::json document;
  int64_t version = 0;
  int64_t updated_at_ms = 0;
};

nlohmann::json ModuleStateToJson(const ModuleState& state);

class ModuleStateStore {
 public:
  ModuleStateStore(Database& database, GroupCommitWriter& writer, const Clock& clock)
      : database_(database), writer_(writer), clock_(clock) {}

  Result<ModuleState> Get(const std::string& module);
  Result<std::vector<ModuleState>> List();
  // Every module's document as stored (the compact JSON Put wrote), unparsed: a snapshot
  // splices these bytes instead of parsing and re-serializing megabytes of state.
  Result<std::vector<std::pair<std::string, std::string>>> ListText();
  // Returns once every write queued before the call has committed (writes commit in queue
  // order), so that a read after it sees them: Put is not waited for by its callers (the
  // daemon's own state), but a snapshot must hold what was acknowledged before it. A write-free
  // transaction: nothing to flush.
  Status AwaitQueuedWrites();
  // Unconditional when expected_version is nullopt.
  std::future<Result<ModuleState>> Put(const std::string& module, nlohmann::json document,
                                       std::optional<int64_t> expected_version);
  std::future<Status> Delete(const std::string& module, std::optional<int64_t> expected_version);

 private:
  Database& database_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
};

// Module names: 1-128 characters of [A-Za-z0-9_.-].
Status ValidateModuleName(const std::string& module);

}  // namespace rebound::store
