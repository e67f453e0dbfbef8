#include "store/durable_operations.h"

#include <array>

namespace rebound::store {
namespace {

using nlohmann::json;
using S = OperationState;
using E = OperationEvent;

constexpr std::array<std::string_view, 6> kStateNames = {"pending", "in_progress", "recovering",
                                                         "success", "failed",      "exhausted"};

std::optional<json> ParseOptionalJson(const SqliteStatement& stmt, int column) {
  if (stmt.ColumnIsNull(column)) {
    return std::nullopt;
  }
  return json::parse(stmt.ColumnText(column), nullptr, false);
}

std::optional<std::string> OptionalText(const SqliteStatement& stmt, int column) {
  if (stmt.ColumnIsNull(column)) {
    return std::nullopt;
  }
  return stmt.ColumnText(column);
}

constexpr const char* kColumns =
    "id, name, state, attempt, args, result, error, error_category, metadata, created_at_ms, "
    "updated_at_ms";

// Damaged JSON columns load as discarded values; the caller decides what that means.
Result<OperationRecord> ReadRow(const SqliteStatement& stmt) {
  OperationRecord record;
  record.id = stmt.ColumnText(0);
  record.name = stmt.ColumnText(1);
  auto state = ParseOperationState(stmt.ColumnText(2));
  if (!state.ok()) {
    return CorruptionError("operation " + record.id + ": " + state.error().message());
  }
  record.state = *state;
  record.attempt = static_cast<int>(stmt.ColumnInt(3));
  record.args = json::parse(stmt.ColumnText(4), nullptr, false);
  record.result = ParseOptionalJson(stmt, 5);
  record.error = OptionalText(stmt, 6);
  record.error_category = OptionalText(stmt, 7);
  record.metadata = json::parse(stmt.ColumnText(8), nullptr, false);
  if (record.metadata.is_discarded()) {
    record.metadata = json::object();
  }
  record.created_at_ms = stmt.ColumnInt(9);
  record.updated_at_ms = stmt.ColumnInt(10);
  return record;
}

Result<std::vector<OperationRecord>> SelectRows(SqliteConnection& db, const std::string& where,
                                                const std::vector<std::string>& params) {
  auto stmt = db.Prepare(std::string("SELECT ") + kColumns + " FROM operations " + where);
  if (!stmt.ok()) {
    return stmt.error();
  }
  for (size_t i = 0; i < params.size(); ++i) {
    stmt->BindText(static_cast<int>(i + 1), params[i]);
  }
  std::vector<OperationRecord> records;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      return row.error();
    }
    if (!*row) {
      return records;
    }
    auto record = ReadRow(*stmt);
    if (!record.ok()) {
      return record.error();
    }
    records.push_back(std::move(*record));
  }
}

// Invalid UTF-8 in a result (raw command output, say) is replaced rather than thrown.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Status Upsert(SqliteConnection& db, const OperationRecord& r) {
  auto stmt = db.Cached(
      "INSERT INTO operations(id, name, state, attempt, args, result, error, error_category, "
      "metadata, created_at_ms, updated_at_ms) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) "
      "ON CONFLICT(id) DO UPDATE SET state = excluded.state, attempt = excluded.attempt, "
      "result = excluded.result, error = excluded.error, error_category = "
      "excluded.error_category, metadata = excluded.metadata, updated_at_ms = "
      "excluded.updated_at_ms");
  if (!stmt.ok()) {
    return stmt.error();
  }
  SqliteStatement& s = **stmt;
  s.BindText(1, r.id).BindText(2, r.name).BindText(3, OperationStateName(r.state));
  s.BindInt(4, r.attempt).BindText(5, r.args.is_discarded() ? "null" : Dump(r.args));
  s.BindOptionalText(6, r.result ? std::optional<std::string>(Dump(*r.result)) : std::nullopt);
  s.BindOptionalText(7, r.error).BindOptionalText(8, r.error_category);
  s.BindText(9, Dump(r.metadata)).BindInt(10, r.created_at_ms).BindInt(11, r.updated_at_ms);
  return s.StepDone();
}

Result<int64_t> DeleteFinishedBefore(SqliteConnection& db, int64_t cutoff_ms) {
  auto stmt = db.Prepare(
      "DELETE FROM operations WHERE state IN ('success', 'failed', 'exhausted') "
      "AND updated_at_ms < ?1");
  if (!stmt.ok()) {
    return stmt.error();
  }
  stmt->BindInt(1, cutoff_ms);
  REBOUND_RETURN_IF_ERROR(stmt->StepDone());
  return db.Changes();
}

int64_t CutoffMillis(const Clock& clock, Duration older_than) {
  return ToUnixMillis(clock.WallNow()) -
         std::chrono::duration_cast<std::chrono::milliseconds>(older_than).count();
}

}  // namespace

std::string_view OperationStateName(OperationState state) {
  return kStateNames[static_cast<size_t>(state)];
}

Result<OperationState> ParseOperationState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) {
      return static_cast<OperationState>(i);
    }
  }
  return ValidationError("unknown operation state \"" + std::string(name) + "\"");
}

bool IsTerminal(OperationState state) {
  return state == S::kSuccess || state == S::kFailed || state == S::kExhausted;
}

Result<OperationState> NextOperationState(OperationState from, OperationEvent event) {
  switch (from) {
    case S::kPending:
    case S::kRecovering:
      if (event == E::kAttemptStarted) return S::kInProgress;
      if (event == E::kFailedPermanently) return S::kFailed;
      if (event == E::kGaveUp) return S::kExhausted;
      break;
    case S::kInProgress:
      if (event == E::kAttemptStarted) return S::kInProgress;  // continued after a crash
      if (event == E::kSucceeded) return S::kSuccess;
      if (event == E::kFailedWillRetry) return S::kRecovering;
      if (event == E::kFailedPermanently) return S::kFailed;
      if (event == E::kGaveUp) return S::kExhausted;
      break;
    case S::kSuccess:
    case S::kFailed:
    case S::kExhausted:
      break;
  }
  return ValidationError("operation in state " + std::string(OperationStateName(from)) +
                         " cannot take event " + std::to_string(static_cast<int>(event)));
}

json OperationToJson(const OperationRecord& r) {
  json out = {{"id", r.id},
              {"name", r.name},
              {"state", OperationStateName(r.state)},
              {"attempt", r.attempt},
              {"args", r.args},
              {"metadata", r.metadata},
              {"created_at_ms", r.created_at_ms},
              {"updated_at_ms", r.updated_at_ms}};
  out["result"] = r.result ? *r.result : json(nullptr);
  out["error"] = r.error ? json(*r.error) : json(nullptr);
  out["error_category"] = r.error_category ? json(*r.error_category) : json(nullptr);
  return out;
}

DurableOperations::DurableOperations(Database& database, GroupCommitWriter& writer, Clock& clock)
    : database_(database), writer_(writer), clock_(clock), random_(Random::EntropySeed()) {}

resilience::RetryPolicy DurableOperations::DefaultPolicy() {
  // Seed 002's defaults: 3 retries after the first attempt, 1 s doubling to at most 60 s.
  return *resilience::RetryPolicy::Create({.max_attempts = 4,
                                           .backoff = {.initial = std::chrono::seconds(1),
                                                       .factor = 2.0,
                                                       .max = std::chrono::seconds(60),
                                                       .jitter = resilience::Jitter::kEqual}});
}

Status DurableOperations::Register(const std::string& name, OperationFn fn,
                                   resilience::RetryPolicy policy) {
  if (name.empty()) {
    return ValidationError("operation name must not be empty");
  }
  std::lock_guard lock(mutex_);
  if (!registry_.emplace(name, Registered{std::move(fn), std::move(policy)}).second) {
    return ConflictError("an operation named '" + name + "' is already registered");
  }
  return OkStatus();
}

std::string DurableOperations::NewId() {
  std::lock_guard lock(mutex_);
  return "op-" + random_.HexString(16);
}

Result<OperationRecord> DurableOperations::RunJson(const std::string& name,
                                                   std::string_view args_json, RunOptions options) {
  json args = json::parse(args_json, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) {
    return ValidationError("operation '" + name +
                           "': args are not valid JSON: " + std::string(args_json.substr(0, 80)));
  }
  return Run(name, std::move(args), std::move(options));
}

Result<OperationRecord> DurableOperations::Run(const std::string& name, json args,
                                               RunOptions options) {
  {
    std::lock_guard lock(mutex_);
    if (!registry_.contains(name)) {
      return NotFoundError("no operation registered under the name '" + name + "'");
    }
  }
  const std::string id = options.id.empty() ? NewId() : options.id;
  auto existing = Claim(id);
  if (!existing.ok()) {
    return existing.error();
  }
  ClaimGuard guard{this, id};
  if (existing->has_value()) {
    if ((*existing)->name != name) {
      return ConflictError("operation id '" + id + "' belongs to operation '" + (*existing)->name +
                           "', not '" + name + "'");
    }
    return Continue(std::move(**existing));
  }
  const int64_t now_ms = ToUnixMillis(clock_.WallNow());
  OperationRecord record{.id = id,
                         .name = name,
                         .args = std::move(args),
                         .metadata = std::move(options.metadata),
                         .created_at_ms = now_ms,
                         .updated_at_ms = now_ms};
  Status stored =
      writer_.SubmitStatus([record](SqliteConnection& db) { return Upsert(db, record); }).get();
  if (!stored.ok()) {
    return stored.error().WithContext("operation " + id + ": could not record it");
  }
  return Continue(std::move(record));
}

Result<std::optional<OperationRecord>> DurableOperations::Claim(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    if (!running_.insert(id).second) {
      return ConflictError("operation '" + id + "' is already running in this process");
    }
  }
  auto found =
      database_.Read([&](SqliteConnection& db) { return SelectRows(db, "WHERE id = ?1", {id}); });
  if (!found.ok()) {
    Release(id);
    return found.error();
  }
  if (found->empty()) {
    return std::optional<OperationRecord>();
  }
  return std::optional<OperationRecord>(std::move(found->front()));
}

void DurableOperations::Release(const std::string& id) {
  std::lock_guard lock(mutex_);
  running_.erase(id);
}

Result<OperationRecord> DurableOperations::Continue(OperationRecord record) {
  if (IsTerminal(record.state)) {
    return record;  // the recorded outcome: never run twice
  }
  const Registered* op = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto it = registry_.find(record.name);
    op = it == registry_.end() ? nullptr : &it->second;
  }
  std::optional<std::string> problem;
  if (op == nullptr) {
    problem = "no operation registered under the name '" + record.name +
              "'; register it before calling Resume()";
  } else if (record.args.is_discarded()) {
    problem = "its stored arguments are damaged (not valid JSON)";
  }
  if (problem) {
    record.error = *problem;
    record.error_category = "validation";
    REBOUND_RETURN_IF_ERROR(Persist(record, E::kFailedPermanently));
    return record;
  }
  return Execute(std::move(record), *op);
}

Status DurableOperations::Persist(OperationRecord& record, OperationEvent event) {
  auto next = NextOperationState(record.state, event);
  if (!next.ok()) {
    return next.error().WithContext("operation " + record.id);
  }
  record.state = *next;
  record.updated_at_ms = ToUnixMillis(clock_.WallNow());
  Status stored =
      writer_.SubmitStatus([record](SqliteConnection& db) { return Upsert(db, record); }).get();
  if (!stored.ok()) {
    return stored.error().WithContext("operation " + record.id + ": could not record state " +
                                      std::string(OperationStateName(record.state)));
  }
  return OkStatus();
}

Result<OperationRecord> DurableOperations::Execute(OperationRecord record, const Registered& op) {
  Random random(0);
  {
    std::lock_guard lock(mutex_);
    random = Random(random_.Next());
  }
  resilience::RetryState retry(op.policy, clock_, random);
  const int max_attempts = op.policy.config().max_attempts;
  while (true) {
    ++record.attempt;
    REBOUND_RETURN_IF_ERROR(Persist(record, E::kAttemptStarted));
    Result<json> outcome = UnknownError("not run");
    try {
      outcome = op.fn(record.args, OperationContext{record.id, record.attempt, record.metadata});
    } catch (...) {
      // User code is an edge: a throw becomes a classified Error, never escapes.
      const auto classification =
          op.policy.classifier().ClassifyException(std::current_exception());
      outcome =
          resilience::ErrorClassifier::ToError(classification, "operation threw an exception");
    }
    if (outcome.ok()) {
      record.result = std::move(*outcome);
      record.error.reset();
      record.error_category.reset();
      REBOUND_RETURN_IF_ERROR(Persist(record, E::kSucceeded));
      return record;
    }
    const Error& error = outcome.error();
    record.error = error.message();
    record.error_category = std::string(CategoryName(error.category()));
    const bool retryable = op.policy.classifier().Classify(error).retryable;
    OperationEvent event = retryable ? E::kGaveUp : E::kFailedPermanently;
    resilience::RetryDecision decision;
    if (record.attempt < max_attempts) {
      decision = retry.NextDelay(error);
    }
    if (decision.retry) {
      REBOUND_RETURN_IF_ERROR(Persist(record, E::kFailedWillRetry));
      clock_.SleepFor(decision.delay);
      continue;
    }
    REBOUND_RETURN_IF_ERROR(Persist(record, event));
    return record;
  }
}

Result<std::vector<OperationRecord>> DurableOperations::Resume() {
  auto unfinished = database_.Read([](SqliteConnection& db) {
    return SelectRows(db,
                      "WHERE state IN ('pending', 'in_progress', 'recovering') "
                      "ORDER BY created_at_ms, id",
                      {});
  });
  if (!unfinished.ok()) {
    return unfinished.error().WithContext("resume");
  }
  std::vector<OperationRecord> finished;
  for (OperationRecord& record : *unfinished) {
    auto claimed = Claim(record.id);
    if (!claimed.ok()) {
      if (claimed.error().category() == ErrorCategory::kConflict) {
        continue;  // already being run by another thread of this process
      }
      return claimed.error().WithContext("resume " + record.id);
    }
    ClaimGuard guard{this, record.id};
    if (!claimed->has_value()) {
      continue;  // cleaned up meanwhile
    }
    auto result = Continue(std::move(**claimed));
    if (!result.ok()) {
      return result.error().WithContext("resume");
    }
    finished.push_back(std::move(*result));
  }
  return finished;
}

Result<OperationRecord> DurableOperations::Get(const std::string& id) {
  auto found =
      database_.Read([&](SqliteConnection& db) { return SelectRows(db, "WHERE id = ?1", {id}); });
  if (!found.ok()) {
    return found.error();
  }
  if (found->empty()) {
    return NotFoundError("no operation with id '" + id + "'");
  }
  return std::move(found->front());
}

Result<std::vector<OperationRecord>> DurableOperations::List(std::optional<OperationState> state) {
  return database_.Read([&](SqliteConnection& db) {
    if (state) {
      return SelectRows(db, "WHERE state = ?1 ORDER BY created_at_ms, id",
                        {std::string(OperationStateName(*state))});
    }
    return SelectRows(db, "ORDER BY created_at_ms, id", {});
  });
}

std::future<Result<int64_t>> DurableOperations::CleanupFinished(Duration older_than) {
  const int64_t cutoff_ms = CutoffMillis(clock_, older_than);
  return writer_.Submit<int64_t>(
      [cutoff_ms](SqliteConnection& db) { return DeleteFinishedBefore(db, cutoff_ms); });
}

void DurableOperations::StartCleanup(Duration retention, Duration interval) {
  writer_.AddMaintenance(interval, [this, retention](SqliteConnection& db) -> Status {
    auto deleted = DeleteFinishedBefore(db, CutoffMillis(clock_, retention));
    return deleted.ok() ? OkStatus() : Status(deleted.error());
  });
}

}  // namespace rebound::store
