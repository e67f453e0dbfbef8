#pragma once

// SyncService: keeps each application module's in-memory state and its persistent copy in
// the store's module state (store/module_state.h) in step, both ways (seed 004, issue 7).
//
//   SyncService sync(store.states(), clock, SyncStrategy::kNewestWins);
//   sync.Register("llm_orchestrator",
//                 {.read = [&] { return MemoryDocument{app.State(), app.UpdatedAtMs()}; },
//                  .write = [&](const nlohmann::json& doc) { return app.Load(doc); }});
//   SyncReport round = sync.SyncOnce();           // on demand
//   sync.Start(scheduler, std::chrono::seconds(30));  // and every 30 s
//
// Per module and round: the store's copy is read, then the application's; equal documents
// stay put. Otherwise the strategy decides which side wins: memory-wins, persistent-wins, or
// newest-wins (updated_at compared; a tie moves nothing). A module the store has never seen
// is stored. Store writes are compare-and-set against the version read at the start of the
// round: another writer in between makes the module a conflict for this round (reported,
// retried next round), never a silent overwrite. A round issues all its store writes before
// waiting for any, so group commit makes them durable together (one fsync per round).
//
// Thread-safe: rounds are serialized by a mutex (an on-demand round waits for a running one).
// The states store, clock and scheduler must outlive this; Stop() before destroying it when
// Start() was called.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/scheduler.h"
#include "store/module_state.h"

namespace rebound::store {

enum class SyncStrategy { kMemoryWins, kPersistentWins, kNewestWins };

// "memory-wins", "persistent-wins", "newest-wins"; a validation Error naming all three.
Result<SyncStrategy> ParseSyncStrategy(std::string_view text);
std::string_view SyncStrategyName(SyncStrategy strategy);

// The application's copy of a module. updated_at_ms: when the application last changed it
// (unix ms); nullopt when it does not say, which newest-wins treats as newer than the store.
struct MemoryDocument {
  nlohmann::json document;
  std::optional<int64_t> updated_at_ms = std::nullopt;
};

struct SyncEndpoints {
  std::function<Result<MemoryDocument>()> read;
  std::function<Status(const nlohmann::json& document)> write;
};

// What one round did to one module.
enum class SyncDirection { kUnchanged, kTie, kToStore, kToMemory, kConflict, kError };
std::string_view SyncDirectionName(SyncDirection direction);

struct ModuleSyncResult {
  std::string module;
  SyncDirection direction = SyncDirection::kUnchanged;
  std::string detail = {};    // why (the error or conflict message; the tie's time)
  int64_t store_version = 0;  // the store's version after the round; 0: none
};

struct SyncReport {
  int64_t started_at_ms = 0;              // wall clock, unix ms
  int64_t duration_ms = 0;                // monotonic
  std::vector<ModuleSyncResult> modules;  // in registration order

  int Count(SyncDirection direction) const;
};

nlohmann::json SyncReportToJson(const SyncReport& report);

class SyncService {
 public:
  SyncService(ModuleStateStore& states, const Clock& clock, SyncStrategy strategy);
  ~SyncService();
  SyncService(const SyncService&) = delete;
  SyncService& operator=(const SyncService&) = delete;

  // REQUIRES: module is a valid module name, not registered yet; before Start().
  void Register(const std::string& module, SyncEndpoints endpoints);

  // Syncs every registered module once; the report is also kept as LastReport().
  SyncReport SyncOnce();

  // Runs a round every `interval` (> 0). `run_round` decides where the round runs (e.g.
  // submits it to a worker pool); by default it runs inside the scheduler's callback.
  using RoundRunner = std::function<void(std::function<void()> round)>;
  void Start(Scheduler& scheduler, Duration interval, RoundRunner run_round = nullptr);
  // Cancels the pending timer. REQUIRES: called on the scheduler's thread.
  void Stop();

  std::optional<SyncReport> LastReport() const;
  SyncStrategy strategy() const { return strategy_; }
  std::vector<std::string> Modules() const;
  // Counters since construction (the daemon exports them as metrics).
  int64_t rounds_total() const;
  int64_t conflicts_total() const;

 private:
  // Decides one module; a store write it starts is left in `put` for SyncOnce to wait for.
  ModuleSyncResult SyncModule(const std::string& module, const SyncEndpoints& endpoints,
                              std::optional<std::future<Result<ModuleState>>>& put);
  static void FinishStoreWrite(Result<ModuleState> put, ModuleSyncResult& result);
  void ScheduleNext();

  ModuleStateStore& states_;
  const Clock& clock_;
  const SyncStrategy strategy_;
  std::vector<std::pair<std::string, SyncEndpoints>> modules_;

  std::mutex round_mutex_;  // one round at a time
  mutable std::mutex report_mutex_;
  std::optional<SyncReport> last_report_;  // GUARDED_BY(report_mutex_)
  int64_t rounds_total_ = 0;               // GUARDED_BY(report_mutex_)
  int64_t conflicts_total_ = 0;            // GUARDED_BY(report_mutex_)

  Scheduler* scheduler_ = nullptr;
  Duration interval_ = Duration::zero();
  RoundRunner run_round_;
  std::optional<TimerId> timer_;
};

}  // namespace rebound::store
