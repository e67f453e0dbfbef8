#include "store/sync_service.h"

#include <utility>

namespace rebound::store {
namespace {

constexpr std::pair<SyncStrategy, std::string_view> kSyncStrategyNames[] = {
    {SyncStrategy::kMemoryWins, "memory-wins"},
    {SyncStrategy::kPersistentWins, "persistent-wins"},
    {SyncStrategy::kNewestWins, "newest-wins"}};

constexpr std::pair<SyncDirection, std::string_view> kSyncDirectionNames[] = {
    {SyncDirection::kUnchanged, "unchanged"}, {SyncDirection::kTie, "tie"},
    {SyncDirection::kToStore, "to_store"},    {SyncDirection::kToMemory, "to_memory"},
    {SyncDirection::kConflict, "conflict"},   {SyncDirection::kError, "error"}};

ModuleSyncResult SyncResultOf(const std::string& module, SyncDirection direction,
                              std::string detail, int64_t store_version) {
  return ModuleSyncResult{.module = module,
                          .direction = direction,
                          .detail = std::move(detail),
                          .store_version = store_version};
}

// Which side a differing module moves from, per strategy.
SyncDirection DecideSyncDirection(SyncStrategy strategy, const MemoryDocument& memory,
                                  const ModuleState& stored) {
  switch (strategy) {
    case SyncStrategy::kMemoryWins:
      return SyncDirection::kToStore;
    case SyncStrategy::kPersistentWins:
      return SyncDirection::kToMemory;
    case SyncStrategy::kNewestWins:
      break;
  }
  if (!memory.updated_at_ms || *memory.updated_at_ms > stored.updated_at_ms) {
    return SyncDirection::kToStore;
  }
  return *memory.updated_at_ms < stored.updated_at_ms ? SyncDirection::kToMemory
                                                      : SyncDirection::kTie;
}

}  // namespace

Result<SyncStrategy> ParseSyncStrategy(std::string_view text) {
  for (const auto& [strategy, name] : kSyncStrategyNames) {
    if (name == text) {
      return strategy;
    }
  }
  return ValidationError("unknown sync strategy \"" + std::string(text) +
                         "\"; use \"memory-wins\", \"persistent-wins\" or \"newest-wins\"");
}

std::string_view SyncStrategyName(SyncStrategy strategy) {
  for (const auto& [candidate, name] : kSyncStrategyNames) {
    if (candidate == strategy) {
      return name;
    }
  }
  return "unknown";
}

std::string_view SyncDirectionName(SyncDirection direction) {
  for (const auto& [candidate, name] : kSyncDirectionNames) {
    if (candidate == direction) {
      return name;
    }
  }
  return "unknown";
}

int SyncReport::Count(SyncDirection direction) const {
  int count = 0;
  for (const ModuleSyncResult& result : modules) {
    count += result.direction == direction ? 1 : 0;
  }
  return count;
}

nlohmann::json SyncReportToJson(const SyncReport& report) {
  nlohmann::json modules = nlohmann::json::array();
  for (const ModuleSyncResult& result : report.modules) {
    nlohmann::json entry = {{"module", result.module},
                            {"direction", SyncDirectionName(result.direction)},
                            {"store_version", result.store_version}};
    if (!result.detail.empty()) {
      entry["detail"] = result.detail;
    }
    modules.push_back(std::move(entry));
  }
  return {
      {"started_at_ms", report.started_at_ms},
      {"duration_ms", report.duration_ms},
      {"to_store", report.Count(SyncDirection::kToStore)},
      {"to_memory", report.Count(SyncDirection::kToMemory)},
      {"unchanged", report.Count(SyncDirection::kUnchanged) + report.Count(SyncDirection::kTie)},
      {"conflicts", report.Count(SyncDirection::kConflict)},
      {"errors", report.Count(SyncDirection::kError)},
      {"modules", std::move(modules)}};
}

SyncService::SyncService(ModuleStateStore& states, const Clock& clock, SyncStrategy strategy)
    : states_(states), clock_(clock), strategy_(strategy) {}

SyncService::~SyncService() = default;

void SyncService::Register(const std::string& module, SyncEndpoints endpoints) {
  modules_.emplace_back(module, std::move(endpoints));
}

std::vector<std::string> SyncService::Modules() const {
  std::vector<std::string> names;
  for (const auto& [module, endpoints] : modules_) {
    names.push_back(module);
  }
  return names;
}

SyncReport SyncService::SyncOnce() {
  std::lock_guard round_lock(round_mutex_);
  SyncReport report;
  report.started_at_ms = ToUnixMillis(clock_.WallNow());
  const MonoTime started = clock_.MonotonicNow();
  // Store writes are all issued before any is waited for, so that group commit makes them
  // durable together: one fsync per round rather than one per module.
  std::vector<std::optional<std::future<Result<ModuleState>>>> puts(modules_.size());
  for (size_t i = 0; i < modules_.size(); ++i) {
    report.modules.push_back(SyncModule(modules_[i].first, modules_[i].second, puts[i]));
  }
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (puts[i]) {
      FinishStoreWrite(puts[i]->get(), report.modules[i]);
    }
  }
  report.duration_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.MonotonicNow() - started)
          .count();
  std::lock_guard report_lock(report_mutex_);
  ++rounds_total_;
  conflicts_total_ += report.Count(SyncDirection::kConflict);
  last_report_ = report;
  return report;
}

// The store is read first: a write that lands between this read and ours is a conflict.
ModuleSyncResult SyncService::SyncModule(const std::string& module, const SyncEndpoints& endpoints,
                                         std::optional<std::future<Result<ModuleState>>>& put) {
  Result<ModuleState> stored = states_.Get(module);
  if (!stored.ok() && stored.error().category() != ErrorCategory::kNotFound) {
    return SyncResultOf(module, SyncDirection::kError, "store: " + stored.error().message(), 0);
  }
  const int64_t stored_version = stored.ok() ? stored->version : 0;
  Result<MemoryDocument> memory = endpoints.read();
  if (!memory.ok()) {
    return SyncResultOf(module, SyncDirection::kError, "read: " + memory.error().message(),
                        stored_version);
  }
  if (!stored.ok()) {
    put = states_.Put(module, memory->document, 0);  // the store has never seen it
    return SyncResultOf(module, SyncDirection::kToStore, "", 0);
  }
  if (memory->document == stored->document) {
    return SyncResultOf(module, SyncDirection::kUnchanged, "", stored_version);
  }
  const SyncDirection direction = DecideSyncDirection(strategy_, *memory, *stored);
  if (direction == SyncDirection::kToStore) {
    put = states_.Put(module, memory->document, stored_version);  // compare-and-set
    return SyncResultOf(module, direction, "", stored_version);
  }
  if (direction == SyncDirection::kTie) {
    return SyncResultOf(
        module, direction,
        "both sides updated at " + std::to_string(stored->updated_at_ms) + " ms; nothing moved",
        stored_version);
  }
  const Status written = endpoints.write(stored->document);
  if (!written.ok()) {
    return SyncResultOf(module, SyncDirection::kError, "write: " + written.error().message(),
                        stored_version);
  }
  return SyncResultOf(module, SyncDirection::kToMemory, "", stored_version);
}

void SyncService::FinishStoreWrite(Result<ModuleState> put, ModuleSyncResult& result) {
  if (put.ok()) {
    result.store_version = put->version;
    return;
  }
  result.direction = put.error().category() == ErrorCategory::kConflict ? SyncDirection::kConflict
                                                                        : SyncDirection::kError;
  result.detail = "store: " + put.error().message();
}

void SyncService::Start(Scheduler& scheduler, Duration interval, RoundRunner run_round) {
  scheduler_ = &scheduler;
  interval_ = interval;
  run_round_ = std::move(run_round);
  ScheduleNext();
}

void SyncService::Stop() {
  if (scheduler_ != nullptr && timer_) {
    scheduler_->Cancel(*timer_);
  }
  timer_.reset();
  scheduler_ = nullptr;
}

void SyncService::ScheduleNext() {
  timer_ = scheduler_->ScheduleAt(clock_.MonotonicNow() + interval_, [this] {
    timer_.reset();
    if (run_round_) {
      run_round_([this] { (void)SyncOnce(); });
    } else {
      (void)SyncOnce();
    }
    if (scheduler_ != nullptr) {
      ScheduleNext();
    }
  });
}

std::optional<SyncReport> SyncService::LastReport() const {
  std::lock_guard lock(report_mutex_);
  return last_report_;
}

int64_t SyncService::rounds_total() const {
  std::lock_guard lock(report_mutex_);
  return rounds_total_;
}

int64_t SyncService::conflicts_total() const {
  std::lock_guard lock(report_mutex_);
  return conflicts_total_;
}

}  // namespace rebound::store
