#pragma once

// DurableOperations (the "recoverable" decorator of seed 002, for C++): named operations
// whose every state change is on disk before it is acted on, retried by a RetryPolicy, and
// resumed by name after a crash.
//
//   DurableOperations ops(*database, writer, clock);
//   ops.Register("download", [](const json& args, const OperationContext& ctx)
//       -> Result<json> { return Download(args["url"], args["dest"]); },
//       *RetryPolicy::Create({.max_attempts = 5}));
//   auto record = ops.Run("download", {{"url", url}, {"dest", path}}, {.id = "model-v3"});
//   // After a crash, at start-up, once every operation is registered:
//   auto resumed = ops.Resume();
//
// States: pending -> in_progress -> (recovering -> in_progress)* -> success | failed |
// exhausted. failed: a non-retryable error; exhausted: retryable, but attempts, time or budget
// ran out. Run returns the operation's final record; its Error is for what prevented running
// it (unknown name, bad arguments, the store failing), not for the operation failing.
//
// Running an id again returns the recorded outcome of a finished operation instead of
// running it twice; an id left unfinished by a crash is continued. Operations run at least
// once: a crash after the function succeeded but before "success" was committed runs it
// again on resume, so functions should be idempotent. Once success is recorded, it never
// runs again.
//
// Thread-safe: Run may be called from many threads (each run blocks its caller).
// REQUIRES: the writer is stopped before this is destroyed (it holds callbacks to this);
// Store does so in Close().

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/random.h"
#include "resilience/retry_policy.h"
#include "store/database.h"
#include "store/group_commit.h"

namespace rebound::store {

enum class OperationState { kPending, kInProgress, kRecovering, kSuccess, kFailed, kExhausted };
std::string_view OperationStateName(OperationState state);
Result<OperationState> ParseOperationState(std::string_view name);
bool IsTerminal(OperationState state);

enum class OperationEvent {
  kAttemptStarted,
  kSucceeded,
  kFailedWillRetry,
  kFailedPermanently,
  kGaveUp
};
// The state machine; an event that makes no sense in `from` is a validation Error.
Result<OperationState> NextOperationState(OperationState from, OperationEvent event);

struct OperationRecord {
  std::string id;
  std::string name;
  OperationState state = OperationState::kPending;
  int attempt = 0;
  nlohmann::json args = nullptr;
  std::optional<nlohmann::json> result = {};
  std::optional<std::string> error = {};
  std::optional<std::string> error_category = {};
  nlohmann::json metadata = nlohmann::json::object();
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

nlohmann::json OperationToJson(const OperationRecord& record);

struct OperationContext {
  std::string id;
  int attempt;
  const nlohmann::json& metadata;
};

using OperationFn =
    std::function<Result<nlohmann::json>(const nlohmann::json& args, const OperationContext&)>;

struct RunOptions {
  std::string id = {};  // generated when empty
  nlohmann::json metadata = nlohmann::json::object();
};

class DurableOperations {
 public:
  DurableOperations(Database& database, GroupCommitWriter& writer, Clock& clock);

  // A conflict Error if `name` is already registered.
  Status Register(const std::string& name, OperationFn fn,
                  resilience::RetryPolicy policy = DefaultPolicy());
  Result<OperationRecord> Run(const std::string& name, nlohmann::json args,
                              RunOptions options = {});
  // `args_json` is parsed first: malformed JSON is a validation Error and nothing is stored.
  Result<OperationRecord> RunJson(const std::string& name, std::string_view args_json,
                                  RunOptions options = {});
  // Continues every operation left pending, in_progress or recovering, one after another.
  // One whose name is not registered, or whose stored arguments are damaged, is recorded as
  // failed with the reason; the others still resume.
  Result<std::vector<OperationRecord>> Resume();

  Result<OperationRecord> Get(const std::string& id);
  Result<std::vector<OperationRecord>> List(std::optional<OperationState> state = std::nullopt);
  // Deletes finished operations last updated before now - older_than.
  std::future<Result<int64_t>> CleanupFinished(Duration older_than);
  void StartCleanup(Duration retention, Duration interval);

  static resilience::RetryPolicy DefaultPolicy();

 private:
  struct Registered {
    OperationFn fn;
    resilience::RetryPolicy policy;
  };
  // Releases a claimed id when the run ends, however it ends.
  struct ClaimGuard {
    DurableOperations* self;
    std::string id;
    ~ClaimGuard() { self->Release(id); }
  };

  Result<OperationRecord> Continue(OperationRecord record);
  Result<OperationRecord> Execute(OperationRecord record, const Registered& op);
  Status Persist(OperationRecord& record, OperationEvent event);
  Result<std::optional<OperationRecord>> Claim(const std::string& id);
  void Release(const std::string& id);
  std::string NewId();

  Database& database_;
  GroupCommitWriter& writer_;
  Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, Registered> registry_;
  std::set<std::string> running_;  // ids being executed by this process
  Random random_;
};

}  // namespace rebound::store
