#include "store/journal.h"

#include <algorithm>

namespace rebound::store {
namespace {

// The WHERE clause and its bindings for a filter; bindings are numbered from 1.
struct Where {
  std::string sql = " WHERE seq > ?1";
  std::vector<std::string> texts;  // bound from ?2 on
  std::vector<int64_t> numbers;    // bound after the texts
};

Where BuildWhere(const EventFilter& filter) {
  Where where;
  int index = 2;
  auto text = [&](const char* column, const std::optional<std::string>& value) {
    if (value) {
      where.sql += std::string(" AND ") + column + " = ?" + std::to_string(index++);
      where.texts.push_back(*value);
    }
  };
  text("category", filter.category);
  text("kind", filter.kind);
  text("subject", filter.subject);
  if (filter.since_ms) {
    where.sql += " AND time_ms >= ?" + std::to_string(index++);
    where.numbers.push_back(*filter.since_ms);
  }
  if (filter.until_ms) {
    where.sql += " AND time_ms < ?" + std::to_string(index++);
    where.numbers.push_back(*filter.until_ms);
  }
  return where;
}

Result<std::vector<Event>> RunQuery(SqliteConnection& db, const EventFilter& filter) {
  const Where where = BuildWhere(filter);
  auto stmt =
      db.Prepare("SELECT seq, time_ms, category, kind, subject, data FROM events" + where.sql +
                 " ORDER BY seq LIMIT " + std::to_string(std::max(filter.limit, 0)));
  if (!stmt.ok()) {
    return stmt.error();
  }
  stmt->BindInt(1, filter.after_seq);
  int index = 2;
  for (const std::string& text : where.texts) {
    stmt->BindText(index++, text);
  }
  for (int64_t number : where.numbers) {
    stmt->BindInt(index++, number);
  }
  std::vector<Event> events;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) {
      return row.error().WithContext("query events");
    }
    if (!*row) {
      break;
    }
    Event event{stmt->ColumnInt(0), stmt->ColumnInt(1), stmt->ColumnText(2), stmt->ColumnText(3),
                stmt->ColumnText(4)};
    event.data = nlohmann::json::parse(stmt->ColumnText(5), nullptr, /*allow_exceptions=*/false);
    if (event.data.is_discarded()) {
      return CorruptionError("event " + std::to_string(event.seq) + " has malformed data");
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace

nlohmann::json EventToJson(const Event& event) {
  return {{"seq", event.seq},   {"time_ms", event.time_ms}, {"category", event.category},
          {"kind", event.kind}, {"subject", event.subject}, {"data", event.data}};
}

EventJournal::EventJournal(Database& database, GroupCommitWriter& writer, const Clock& clock)
    : database_(database), writer_(writer), clock_(clock) {
  auto last = database_.Read(
      [](SqliteConnection& db) { return db.QueryInt("SELECT COALESCE(MAX(seq), 0) FROM events"); });
  committed_seq_ = last.value_or(0);
  auto newest = database_.Read([](SqliteConnection& db) {
    return db.QueryInt("SELECT COALESCE(MAX(time_ms), 0) FROM events");
  });
  last_time_ms_ = newest.value_or(0);
  writer_.AddCommitListener([this](SqliteConnection& db) { OnCommit(db); });
}

// One allocation per append holds everything the writer needs, and the outcome's way back
// (a promise, or the caller's callback).
class EventJournal::AppendWrite final : public GroupCommitWriter::PendingWrite {
 public:
  AppendWrite(EventJournal& journal, Event event, std::string data)
      : PendingWrite(GroupCommitWriter::Isolation::kSingleStatement),
        journal_(journal),
        event_(std::move(event)),
        data_(std::move(data)) {}

  std::future<Result<int64_t>> Future() {
    promise_.emplace();
    return promise_->get_future();
  }
  void Then(std::function<void(Result<int64_t>)> done) { done_ = std::move(done); }

  Status Run(SqliteConnection& db) override {
    auto insert = [this](SqliteConnection& c) { return journal_.Insert(c, event_, data_); };
    seq_ = detail::CallWrite(insert, db);
    return seq_.ok() ? OkStatus() : Status(seq_.error());
  }
  void Finish(const Status& commit) override {
    Result<int64_t> seq = commit.ok() ? std::move(seq_) : Result<int64_t>(commit.error());
    if (promise_) {
      promise_->set_value(std::move(seq));
    } else {
      done_(std::move(seq));
    }
  }

 private:
  EventJournal& journal_;
  Event event_;
  std::string data_;
  Result<int64_t> seq_ = UnknownError("the append was never run");
  std::optional<std::promise<Result<int64_t>>> promise_;
  std::function<void(Result<int64_t>)> done_;
};

namespace {

std::optional<Error> InvalidEvent(const Event& event) {
  if (event.category.empty() || event.kind.empty()) {
    return ValidationError("event: category and kind must not be empty");
  }
  return std::nullopt;
}

}  // namespace

std::unique_ptr<EventJournal::AppendWrite> EventJournal::MakeAppend(Event event) {
  if (event.time_ms == 0) {
    event.time_ms = ToUnixMillis(clock_.WallNow());
  }
  // Invalid UTF-8 (raw command output, say) is replaced rather than thrown.
  std::string data = event.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return std::make_unique<AppendWrite>(*this, std::move(event), std::move(data));
}

std::future<Result<int64_t>> EventJournal::Append(Event event) {
  if (std::optional<Error> invalid = InvalidEvent(event)) {
    std::promise<Result<int64_t>> refused;
    refused.set_value(std::move(*invalid));
    return refused.get_future();
  }
  std::unique_ptr<AppendWrite> write = MakeAppend(std::move(event));
  std::future<Result<int64_t>> future = write->Future();
  writer_.Submit(std::move(write));
  return future;
}

void EventJournal::Append(Event event, std::function<void(Result<int64_t>)> done) {
  if (std::optional<Error> invalid = InvalidEvent(event)) {
    done(std::move(*invalid));
    return;
  }
  std::unique_ptr<AppendWrite> write = MakeAppend(std::move(event));
  write->Then(std::move(done));
  writer_.Submit(std::move(write));
}

Result<int64_t> EventJournal::AppendIn(SqliteConnection& db, Event event) {
  if (std::optional<Error> invalid = InvalidEvent(event)) {
    return std::move(*invalid);
  }
  if (event.time_ms == 0) {
    event.time_ms = ToUnixMillis(clock_.WallNow());
  }
  return Insert(db, event,
                event.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Result<int64_t> EventJournal::AppendSerializedIn(SqliteConnection& db, Event event,
                                                 const std::string& data_json) {
  if (std::optional<Error> invalid = InvalidEvent(event)) {
    return std::move(*invalid);
  }
  if (event.time_ms == 0) {
    event.time_ms = ToUnixMillis(clock_.WallNow());
  }
  return Insert(db, event, data_json);
}

Result<int64_t> EventJournal::Insert(SqliteConnection& db, const Event& event,
                                     const std::string& data) {
  auto stmt = db.Cached(
      "INSERT INTO events(time_ms, category, kind, subject, data) VALUES (?1,?2,?3,?4,?5)");
  if (!stmt.ok()) {
    return stmt.error();
  }
  // Time order follows sequence order (queries by time and by seq agree), at the cost of a
  // few milliseconds on an event stamped before one that reached the writer first.
  last_time_ms_ = std::max(last_time_ms_, event.time_ms);
  (*stmt)
      ->BindInt(1, last_time_ms_)
      .BindText(2, event.category)
      .BindText(3, event.kind)
      .BindText(4, event.subject)
      .BindText(5, data);
  REBOUND_RETURN_IF_ERROR((*stmt)->StepDone());
  return db.LastInsertRowId();
}

void EventJournal::OnCommit(SqliteConnection& db) {
  // Read back rather than noted at insert time: a transaction whose COMMIT failed hands its
  // sequence numbers out again, and a count kept from its inserts would run ahead of the
  // table, so that followers would sleep through the events that reuse those numbers.
  auto stmt = db.Cached("SELECT COALESCE(MAX(seq), 0) FROM events");
  if (!stmt.ok() || !(*stmt)->Step().value_or(false)) {
    return;
  }
  const int64_t last = (*stmt)->ColumnInt(0);
  (*stmt)->Reset();  // an open read would stop the WAL from restarting (see ResetCached)
  std::lock_guard lock(mutex_);
  if (last > committed_seq_) {
    committed_seq_ = last;
    committed_.notify_all();
  }
}

int64_t EventJournal::LastCommittedSeq() const {
  std::lock_guard lock(mutex_);
  return committed_seq_;
}

Result<std::vector<Event>> EventJournal::Query(const EventFilter& filter) {
  return database_.Read([&](SqliteConnection& db) { return RunQuery(db, filter); });
}

Result<std::vector<Event>> EventJournal::Follow(const EventFilter& filter, Duration timeout) {
  // On the injected clock: a ManualClock decides when a follower times out.
  const MonoTime deadline = DeadlineAfter(clock_.MonotonicNow(), timeout);
  while (true) {
    // Noted before the query: a commit that lands between the query and the wait below
    // still wakes us, instead of being slept through until the timeout.
    int64_t seen;
    {
      std::lock_guard lock(mutex_);
      seen = committed_seq_;
    }
    auto events = Query(filter);
    if (!events.ok() || !events->empty()) {
      return events;
    }
    std::unique_lock lock(mutex_);
    if (!clock_.WaitUntil(lock, committed_, deadline, [&] { return committed_seq_ > seen; })) {
      return std::vector<Event>{};
    }
  }
}

Result<int64_t> EventJournal::Delete(SqliteConnection& db, const RetentionPolicy& policy) {
  int64_t deleted = 0;
  if (policy.max_age > Duration::zero()) {
    auto stmt = db.Prepare("DELETE FROM events WHERE time_ms < ?1");
    if (!stmt.ok()) {
      return stmt.error();
    }
    stmt->BindInt(
        1, ToUnixMillis(clock_.WallNow()) -
               std::chrono::duration_cast<std::chrono::milliseconds>(policy.max_age).count());
    REBOUND_RETURN_IF_ERROR(stmt->StepDone());
    deleted += db.Changes();
  }
  if (policy.max_count > 0) {
    auto stmt = db.Prepare(
        "DELETE FROM events WHERE seq <= (SELECT seq FROM events ORDER BY seq DESC "
        "LIMIT 1 OFFSET ?1)");
    if (!stmt.ok()) {
      return stmt.error();
    }
    stmt->BindInt(1, policy.max_count);
    REBOUND_RETURN_IF_ERROR(stmt->StepDone());
    deleted += db.Changes();
  }
  return deleted;
}

std::future<Result<int64_t>> EventJournal::ApplyRetention(const RetentionPolicy& policy) {
  return writer_.Submit<int64_t>(
      [this, policy](SqliteConnection& db) { return Delete(db, policy); });
}

void EventJournal::StartRetention(const RetentionPolicy& policy, Duration interval) {
  writer_.AddMaintenance(interval, [this, policy](SqliteConnection& db) -> Status {
    auto deleted = Delete(db, policy);
    return deleted.ok() ? OkStatus() : Status(deleted.error());
  });
}

Result<int64_t> EventJournal::ExportJsonLines(const EventFilter& filter, std::ostream& out) {
  EventFilter page = filter;
  page.limit = 1000;
  int64_t written = 0;
  while (filter.limit <= 0 || written < filter.limit) {
    auto events = Query(page);
    if (!events.ok()) {
      return events.error();
    }
    for (const Event& event : *events) {
      out << EventToJson(event).dump() << '\n';
      page.after_seq = event.seq;
      if (++written == filter.limit) {
        break;
      }
    }
    if (events->size() < static_cast<size_t>(page.limit)) {
      break;
    }
  }
  if (!out) {
    return ResourceError("export events: the output stream failed");
  }
  return written;
}

}  // namespace rebound::store
