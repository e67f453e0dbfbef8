#include "jobs/job_store.h"

namespace rebound::jobs {
namespace {

using nlohmann::json;
using store::SqliteConnection;
using store::SqliteStatement;

constexpr const char* kColumns =
    "id, spec, state, attempt, cancel_requested, last_exit, message, error_category, "
    "not_before_ms, created_at_ms, updated_at_ms";

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<JobRecord> ReadRow(const SqliteStatement& row) {
  JobRecord job;
  job.id = row.ColumnInt(0);
  auto spec = JobSpecFromJson(json::parse(row.ColumnText(1), nullptr, false));
  auto state = ParseJobState(row.ColumnText(2));
  if (!spec.ok() || !state.ok()) {
    return CorruptionError("job " + std::to_string(job.id) + ": unreadable row");
  }
  job.spec = std::move(*spec);
  job.state = *state;
  job.attempt = static_cast<int>(row.ColumnInt(3));
  job.cancel_requested = row.ColumnInt(4) != 0;
  if (!row.ColumnIsNull(5)) {
    job.last_exit = JobExitFromJson(json::parse(row.ColumnText(5), nullptr, false));
  }
  job.message = row.ColumnText(6);
  if (!row.ColumnIsNull(7)) {
    job.error_category = row.ColumnText(7);
  }
  job.not_before_ms = row.ColumnInt(8);
  job.created_at_ms = row.ColumnInt(9);
  job.updated_at_ms = row.ColumnInt(10);
  return job;
}

Result<std::optional<JobRecord>> FindByKey(SqliteConnection& db, const std::string& key) {
  auto stmt = db.Cached(std::string("SELECT ") + kColumns + " FROM jobs WHERE key = ?1");
  if (!stmt.ok()) {
    return stmt.error();
  }
  (*stmt)->BindText(1, key);
  auto row = (*stmt)->Step();
  if (!row.ok()) {
    return row.error();
  }
  if (!*row) {
    return std::optional<JobRecord>();
  }
  auto job = ReadRow(**stmt);
  (*stmt)->Reset();
  if (!job.ok()) {
    return job.error();
  }
  return std::optional<JobRecord>(std::move(*job));
}

Result<SubmitOutcome> Insert(SqliteConnection& db, const JobSpec& spec,
                             const std::string& spec_json, int64_t now_ms, JobCountDelta& delta) {
  if (spec.key) {
    auto existing = FindByKey(db, *spec.key);
    if (!existing.ok()) {
      return existing.error();
    }
    if (*existing) {
      return SubmitOutcome{.job = std::move(**existing), .created = false};
    }
  }
  auto stmt = db.Cached(
      "INSERT INTO jobs(key, queue, priority, state, spec, created_at_ms, updated_at_ms) "
      "VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?5)");
  if (!stmt.ok()) {
    return stmt.error();
  }
  SqliteStatement& s = **stmt;
  s.BindOptionalText(1, spec.key).BindText(2, spec.queue).BindInt(3, spec.priority);
  s.BindText(4, spec_json).BindInt(5, now_ms);
  REBOUND_RETURN_IF_ERROR(s.StepDone());
  delta.Add(spec.queue, JobState::kQueued, +1);
  return SubmitOutcome{.job = JobRecord{.id = db.LastInsertRowId(),
                                        .spec = spec,
                                        .created_at_ms = now_ms,
                                        .updated_at_ms = now_ms}};
}

// The stored (queue, state) of a job: what its next write moves the counts from. The queue
// column is read rather than the record's, which the manager may have changed in memory only.
Result<std::pair<std::string, JobState>> StoredPlace(SqliteConnection& db, int64_t id) {
  auto stmt = db.Cached("SELECT queue, state FROM jobs WHERE id = ?1");
  if (!stmt.ok()) {
    return stmt.error();
  }
  (*stmt)->BindInt(1, id);
  auto row = (*stmt)->Step();
  if (!row.ok()) {
    return row.error();
  }
  if (!*row) {
    return NotFoundError("no job " + std::to_string(id) + " to update");
  }
  std::string queue = (*stmt)->ColumnText(0);
  auto state = ParseJobState((*stmt)->ColumnText(1));
  (*stmt)->Reset();
  if (!state.ok()) {
    return CorruptionError("job " + std::to_string(id) + ": unreadable state");
  }
  return std::make_pair(std::move(queue), *state);
}

constexpr const char* kUpdateSet =
    "UPDATE jobs SET state = ?2, attempt = ?3, cancel_requested = ?4, last_exit = ?5, "
    "message = ?6, error_category = ?7, not_before_ms = ?8, updated_at_ms = ?9 WHERE id = ?1";

// What a Save writes into a job's row: its mutable columns, not its spec (never changed after
// the submit), so that each state change does not copy the command and environment around.
struct RowUpdate {
  int64_t id = 0;
  JobState state = JobState::kQueued;
  int attempt = 0;
  bool cancel_requested = false;
  std::optional<std::string> exit_json;  // last_exit, serialized
  std::string message;
  std::optional<std::string> error_category;
  int64_t not_before_ms = 0;
  int64_t updated_at_ms = 0;
};

// Runs the UPDATE `sql` (kUpdateSet with more conditions bound from ?10 on, if any) for `job`;
// returns the rows it changed.
Result<int64_t> RunUpdate(SqliteConnection& db, const std::string& sql, const RowUpdate& job,
                          const std::optional<std::pair<std::string, JobState>>& place) {
  auto stmt = db.Cached(sql);
  if (!stmt.ok()) {
    return stmt.error();
  }
  SqliteStatement& s = **stmt;
  s.BindInt(1, job.id).BindText(2, JobStateName(job.state)).BindInt(3, job.attempt);
  s.BindInt(4, job.cancel_requested ? 1 : 0).BindOptionalText(5, job.exit_json);
  s.BindText(6, job.message).BindOptionalText(7, job.error_category);
  s.BindInt(8, job.not_before_ms).BindInt(9, job.updated_at_ms);
  if (place) {
    s.BindText(10, place->first).BindText(11, JobStateName(place->second));
  }
  REBOUND_RETURN_IF_ERROR(s.StepDone());
  return db.Changes();
}

// `expected`: where the caller believes the row is (its queue and state). When the row is
// there, one guarded UPDATE both checks it and moves it, and the counts move from there;
// otherwise (a wrong or missing guess) the row's place is read first, so the counts stay
// exact either way.
Status Update(SqliteConnection& db, const RowUpdate& job,
              const std::optional<std::pair<std::string, JobState>>& expected,
              JobCountDelta& delta) {
  static const std::string kUpdate = kUpdateSet;
  static const std::string kGuardedUpdate =
      std::string(kUpdateSet) + " AND queue = ?10 AND state = ?11";
  if (expected) {
    auto changed = RunUpdate(db, kGuardedUpdate, job, expected);
    if (!changed.ok()) {
      return changed.error();
    }
    if (*changed == 1) {
      delta.Move(expected->first, expected->second, job.state);
      return OkStatus();
    }
  }
  auto place = StoredPlace(db, job.id);
  if (!place.ok()) {
    return place.error();
  }
  auto changed = RunUpdate(db, kUpdate, job, std::nullopt);
  if (!changed.ok()) {
    return changed.error();
  }
  if (*changed != 1) {
    return NotFoundError("no job " + std::to_string(job.id) + " to update");
  }
  delta.Move(place->first, place->second, job.state);
  return OkStatus();
}

// A job event's data as JSON text, built without a JSON tree: {"attempt", "exit" (when the job
// has one, as `exit_json`), "message", "queue"}, keys in the order a JSON object would dump
// them (the journal's readers see the same text as before).
std::string EventDataJson(const JobRecord& job, const std::optional<std::string>& exit_json) {
  std::string data = "{\"attempt\":" + std::to_string(job.attempt);
  if (exit_json) {
    data += ",\"exit\":" + *exit_json;
  }
  data += ",\"message\":" + Dump(job.message) + ",\"queue\":" + Dump(job.spec.queue) + "}";
  return data;
}

Result<std::vector<int64_t>> DeleteEnded(SqliteConnection& db, int64_t cutoff_ms, int limit,
                                         JobCountDelta& delta) {
  auto stmt = db.Prepare(
      "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('succeeded', "
      "'failed', 'exhausted', 'cancelled', 'interrupted') AND updated_at_ms < ?1 ORDER BY id "
      "LIMIT ?2) RETURNING id, queue, state");
  if (!stmt.ok()) {
    return stmt.error();
  }
  stmt->BindInt(1, cutoff_ms).BindInt(2, limit);
  std::vector<int64_t> ids;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      return row.error();
    }
    if (!*row) {
      return ids;
    }
    ids.push_back(stmt->ColumnInt(0));
    if (auto state = ParseJobState(stmt->ColumnText(2)); state.ok()) {
      delta.Add(stmt->ColumnText(1), *state, -1);
    }
  }
}

Result<JobsSummary> CountRows(SqliteConnection& db) {
  auto stmt = db.Prepare("SELECT queue, state, COUNT(*) FROM jobs GROUP BY queue, state");
  if (!stmt.ok()) {
    return stmt.error();
  }
  JobsSummary summary;
  for (int i = 0; i < kJobStateCount; ++i) {
    summary.by_state[std::string(JobStateName(static_cast<JobState>(i)))] = 0;
  }
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      return row.error();
    }
    if (!*row) {
      return summary;
    }
    const std::string state = stmt->ColumnText(1);
    summary.by_state[state] += stmt->ColumnInt(2);
    summary.by_queue[stmt->ColumnText(0)][state] += stmt->ColumnInt(2);
  }
}

// Counts the table inside the writer's transaction: every write before it in commit order is
// in the count, none after; the counts are replaced once that transaction has committed.
class CountAllWrite final : public store::GroupCommitWriter::PendingWrite {
 public:
  explicit CountAllWrite(std::shared_ptr<JobCounts> counts)
      : PendingWrite(store::GroupCommitWriter::Isolation::kSingleStatement),
        counts_(std::move(counts)) {}
  std::future<Status> future() { return promise_.get_future(); }
  Status Run(SqliteConnection& db) override {
    auto bound = [](SqliteConnection& c) { return CountRows(c); };
    summary_.emplace(store::detail::CallWrite(bound, db));
    return summary_->ok() ? OkStatus() : Status(summary_->error());
  }
  void Committed() override {
    if (summary_ && summary_->ok()) {
      counts_->Reset(**summary_);
    }
  }
  void Finish(const Status& commit) override {
    if (!commit.ok()) {
      promise_.set_value(commit);
    } else if (!summary_ || !summary_->ok()) {
      promise_.set_value(summary_ ? Status(summary_->error()) : UnknownError("never run"));
    } else {
      promise_.set_value(OkStatus());
    }
  }

 private:
  std::shared_ptr<JobCounts> counts_;
  std::optional<Result<JobsSummary>> summary_;
  std::promise<Status> promise_;
};

// A write to the jobs table that also says what it did to the counts: applied to JobCounts on
// the writer's thread once its transaction has committed (and only if the write itself
// succeeded), in commit order, before any caller hears of it. A COMMIT that fails may still
// have reached the disk (an I/O error after the WAL write): the counts could then miss this
// write, so a failed commit of a write that ran queues a recount (one per such write; failed
// commits are rare, and a recount that fails queues none).
template <typename T>
class CountedWrite final : public store::GroupCommitWriter::PendingWrite {
 public:
  using Write = std::function<Result<T>(SqliteConnection&, JobCountDelta&)>;
  using Done = std::function<void(Result<T>)>;
  CountedWrite(Write write, Done done, store::GroupCommitWriter& writer,
               std::shared_ptr<JobCounts> counts, store::GroupCommitWriter::Isolation isolation)
      : PendingWrite(isolation),
        write_(std::move(write)),
        done_(std::move(done)),
        writer_(writer),
        counts_(std::move(counts)) {}

  Status Run(SqliteConnection& db) override {
    delta_.Clear();  // run again when another write made SQLite abort the transaction
    auto bound = [this](SqliteConnection& c) { return write_(c, delta_); };
    outcome_.emplace(store::detail::CallWrite(bound, db));
    return outcome_->ok() ? OkStatus() : Status(outcome_->error());
  }
  void Committed() override {
    if (outcome_ && outcome_->ok()) {
      counts_->Apply(delta_);
    }
  }
  void Finish(const Status& commit) override {
    if (!commit.ok() && outcome_) {
      writer_.Submit(std::make_unique<CountAllWrite>(counts_));  // before the caller hears
    }
    if (!commit.ok() || !outcome_) {
      done_(commit.ok() ? UnknownError("the write was never run") : commit.error());
    } else {
      done_(std::move(*outcome_));
    }
  }

 private:
  Write write_;
  Done done_;
  store::GroupCommitWriter& writer_;  // owns this write, so outlives it
  std::shared_ptr<JobCounts> counts_;
  JobCountDelta delta_;
  std::optional<Result<T>> outcome_;
};

// `done` gets the outcome on a store thread, in the order of the writes (GroupCommitWriter).
template <typename T>
void SubmitCountedThen(store::GroupCommitWriter& writer, std::shared_ptr<JobCounts> counts,
                       typename CountedWrite<T>::Write write, typename CountedWrite<T>::Done done) {
  writer.Submit(std::make_unique<CountedWrite<T>>(std::move(write), std::move(done), writer,
                                                  std::move(counts),
                                                  store::GroupCommitWriter::Isolation::kSavepoint));
}

template <typename T>
std::future<Result<T>> SubmitCounted(store::GroupCommitWriter& writer,
                                     std::shared_ptr<JobCounts> counts,
                                     typename CountedWrite<T>::Write write) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  std::future<Result<T>> future = promise->get_future();
  SubmitCountedThen<T>(writer, std::move(counts), std::move(write),
                       [promise](Result<T> outcome) { promise->set_value(std::move(outcome)); });
  return future;
}

void RemoveLogs(FileSystem& fs, const std::string& log_dir, int log_keep, int64_t id) {
  const std::string log = log_dir + "/" + ShimName(id) + ".log";
  (void)fs.RemoveFile(log);
  for (int rotation = 1; rotation <= log_keep; ++rotation) {
    (void)fs.RemoveFile(log + "." + std::to_string(rotation));
  }
}

}  // namespace

JobStore::JobStore(store::Database& database, store::GroupCommitWriter& writer,
                   store::EventJournal* journal, const Clock& clock)
    : database_(database), writer_(writer), journal_(journal), clock_(clock) {
  (void)CountOnWriter();  // not waited for: Summary() waits if it comes first
}

std::future<Status> JobStore::CountOnWriter() {
  auto pending = std::make_unique<CountAllWrite>(counts_);
  std::future<Status> counted = pending->future();
  writer_.Submit(std::move(pending));
  return counted;
}

Result<SubmitOutcome> JobStore::Submit(const JobSpec& spec) {
  const int64_t now_ms = ToUnixMillis(clock_.WallNow());
  // Serialized here, on the submitting thread: the writer's thread is the one all jobs share.
  std::string spec_json = Dump(JobSpecToJson(spec));
  std::string data_json = EventDataJson(JobRecord{.spec = spec}, std::nullopt);
  // The row and its "submitted" event in one write (a savepoint): one commit, not two, and
  // never a job without its event.
  auto write = [spec, spec_json = std::move(spec_json), data_json = std::move(data_json), now_ms,
                journal = journal_](SqliteConnection& db,
                                    JobCountDelta& delta) -> Result<SubmitOutcome> {
    auto inserted = Insert(db, spec, spec_json, now_ms, delta);
    if (!inserted.ok() || !inserted->created || journal == nullptr) {
      return inserted;
    }
    auto appended = journal->AppendSerializedIn(
        db, {.category = "job", .kind = "submitted", .subject = ShimName(inserted->job.id)},
        data_json);
    if (!appended.ok()) {
      return appended.error().WithContext("journal job:" + std::to_string(inserted->job.id));
    }
    return inserted;
  };
  auto outcome = SubmitCounted<SubmitOutcome>(writer_, counts_, std::move(write)).get();
  if (!outcome.ok()) {
    return outcome.error().WithContext("submit job");
  }
  return outcome;
}

// The row and its event in one write (one savepoint): the journal never misses a state the
// store has, which the crash tests rely on ("no job started after its success was recorded").
std::future<Status> JobStore::Save(const JobRecord& job, std::optional<JobState> stored_state) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  SaveThen(job, stored_state, [promise](const Status& saved) { promise->set_value(saved); });
  return future;
}

void JobStore::SaveThen(const JobRecord& job, std::optional<JobState> stored_state,
                        std::function<void(const Status&)> done) {
  std::optional<std::pair<std::string, JobState>> expected;
  if (stored_state) {
    expected.emplace(job.spec.queue, *stored_state);
  }
  RowUpdate row{.id = job.id,
                .state = job.state,
                .attempt = job.attempt,
                .cancel_requested = job.cancel_requested,
                .exit_json = std::nullopt,
                .message = job.message,
                .error_category = job.error_category,
                .not_before_ms = job.not_before_ms,
                .updated_at_ms = ToUnixMillis(clock_.WallNow())};
  // Serialized here, once (the exit goes into the row and into the event), not on the writer.
  if (job.last_exit) {
    row.exit_json = Dump(JobExitToJson(*job.last_exit));
  }
  std::string data_json = journal_ != nullptr ? EventDataJson(job, row.exit_json) : std::string();
  auto write = [row = std::move(row), expected = std::move(expected),
                data_json = std::move(data_json),
                journal = journal_](SqliteConnection& db, JobCountDelta& delta) -> Status {
    REBOUND_RETURN_IF_ERROR(Update(db, row, expected, delta));
    if (journal == nullptr) {
      return OkStatus();
    }
    auto appended = journal->AppendSerializedIn(db,
                                                {.category = "job",
                                                 .kind = std::string(JobStateName(row.state)),
                                                 .subject = ShimName(row.id)},
                                                data_json);
    if (!appended.ok()) {
      return appended.error().WithContext("journal job:" + std::to_string(row.id));
    }
    return OkStatus();
  };
  SubmitCountedThen<void>(writer_, counts_, std::move(write),
                          [done = std::move(done)](Status saved) { done(saved); });
}

Result<std::vector<JobRecord>> JobStore::Select(const std::string& where,
                                                const std::vector<std::string>& params, int limit) {
  return database_.Read([&](SqliteConnection& db) -> Result<std::vector<JobRecord>> {
    auto stmt = db.Prepare(std::string("SELECT ") + kColumns + " FROM jobs " + where +
                           " ORDER BY id LIMIT " + std::to_string(limit));
    if (!stmt.ok()) {
      return stmt.error();
    }
    for (size_t i = 0; i < params.size(); ++i) {
      stmt->BindText(static_cast<int>(i + 1), params[i]);
    }
    std::vector<JobRecord> jobs;
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) {
        return row.error();
      }
      if (!*row) {
        return jobs;
      }
      auto job = ReadRow(*stmt);
      if (!job.ok()) {
        return job.error();
      }
      jobs.push_back(std::move(*job));
    }
  });
}

Result<JobRecord> JobStore::Get(int64_t id) {
  auto jobs = Select("WHERE id = ?1", {std::to_string(id)}, 1);
  if (!jobs.ok()) {
    return jobs.error();
  }
  if (jobs->empty()) {
    return NotFoundError("no job with id " + std::to_string(id));
  }
  return std::move(jobs->front());
}

Result<std::vector<JobRecord>> JobStore::List(const JobFilter& filter) {
  std::string where = "WHERE id > ?1";
  std::vector<std::string> params = {std::to_string(filter.after_id)};
  if (filter.state) {
    params.emplace_back(JobStateName(*filter.state));
    where += " AND state = ?" + std::to_string(params.size());
  }
  if (filter.queue) {
    params.push_back(*filter.queue);
    where += " AND queue = ?" + std::to_string(params.size());
  }
  return Select(where, params, filter.limit);
}

Result<UnfinishedJobs> JobStore::LoadUnfinished() {
  // One statement, so one snapshot: the newest row comes along whatever its state.
  auto rows =
      Select("WHERE state IN ('queued', 'running', 'retrying') OR id = (SELECT MAX(id) FROM jobs)",
             {}, INT32_MAX);
  if (!rows.ok()) {
    return rows.error();
  }
  UnfinishedJobs unfinished;
  for (JobRecord& job : *rows) {
    unfinished.max_id = std::max(unfinished.max_id, job.id);
    if (!IsTerminal(job.state)) {
      unfinished.jobs.push_back(std::move(job));
    }
  }
  return unfinished;
}

std::future<Result<int64_t>> JobStore::DeleteEndedBefore(int64_t cutoff_ms, int limit,
                                                         FileSystem& fs, const std::string& log_dir,
                                                         int log_keep) {
  return SubmitCounted<int64_t>(
      writer_, counts_, [=, &fs](SqliteConnection& db, JobCountDelta& delta) -> Result<int64_t> {
        auto ids = DeleteEnded(db, cutoff_ms, limit, delta);
        if (!ids.ok()) {
          return ids.error().WithContext("delete ended jobs");
        }
        for (int64_t id : *ids) {
          RemoveLogs(fs, log_dir, log_keep, id);
        }
        return static_cast<int64_t>(ids->size());
      });
}

void IncludeQueues(JobsSummary& summary, const std::vector<std::string>& queues) {
  for (const std::string& queue : queues) {
    for (const auto& [state, count] : summary.by_state) {
      summary.by_queue[queue].try_emplace(state, 0);
    }
  }
}

std::map<std::string, std::map<std::string, int64_t>> QueueBacklogs(const JobsSummary& summary) {
  std::map<std::string, std::map<std::string, int64_t>> backlogs;
  for (const auto& [queue, states] : summary.by_queue) {
    for (const char* state : {"queued", "running", "retrying"}) {
      auto it = states.find(state);
      backlogs[queue][state] = it == states.end() ? 0 : it->second;
    }
  }
  return backlogs;
}

Result<JobsSummary> CountJobs(store::Database& database) {
  return database.Read([](SqliteConnection& db) { return CountRows(db); });
}

Result<JobsSummary> JobStore::Summary() {
  if (std::optional<JobsSummary> summary = counts_->Summary()) {
    return *std::move(summary);
  }
  // The count made at construction is still in flight, or it failed (the table was
  // unreadable then): count now, in order with the writes.
  Status counted = CountOnWriter().get();
  if (!counted.ok()) {
    return counted.error().WithContext("count jobs");
  }
  if (std::optional<JobsSummary> summary = counts_->Summary()) {
    return *std::move(summary);
  }
  return UnknownError("count jobs: the counts were not installed");
}

}  // namespace rebound::jobs
