#pragma once

// EventJournal: everything that happens in rebound, in order, on disk.
//
//   EventJournal journal(*database, writer, clock);
//   auto seq = journal.Append({.category = "service", .kind = "exited", .subject = "api",
//                              .data = {{"code", 1}}});
//   int64_t durable_seq = *seq.get();        // resolves after the commit
//   auto recent = journal.Query({.subject = "api", .limit = 50});
//   auto next = journal.Follow({.after_seq = durable_seq}, std::chrono::seconds(30));
//
// Sequence numbers increase monotonically and are never reused, even after retention has
// deleted older events. Query returns events in sequence order. Follow blocks until events
// after `after_seq` are committed (or the timeout passes on the journal's clock, so a
// ManualClock drives it in tests) and returns them.
//
// Thread-safe. Database, writer and clock must outlive the journal.
// REQUIRES: the writer is stopped before this is destroyed (it holds callbacks to this);
// Store does so in Close().

#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "store/database.h"
#include "store/group_commit.h"

namespace rebound::store {

struct Event {
  int64_t seq = 0;      // assigned by Append
  int64_t time_ms = 0;  // Unix milliseconds; Append fills it from the clock when 0
  std::string category;
  std::string kind;
  std::string subject = {};
  nlohmann::json data = nlohmann::json::object();
};

nlohmann::json EventToJson(const Event& event);

struct EventFilter {
  std::optional<std::string> category = {};
  std::optional<std::string> kind = {};
  std::optional<std::string> subject = {};
  std::optional<int64_t> since_ms = {};  // inclusive
  std::optional<int64_t> until_ms = {};  // exclusive
  int64_t after_seq = 0;
  int limit = 1000;
};

struct RetentionPolicy {
  Duration max_age{0};    // 0: keep regardless of age
  int64_t max_count = 0;  // 0: no count limit
};

class EventJournal {
 public:
  EventJournal(Database& database, GroupCommitWriter& writer, const Clock& clock);

  // REQUIRES: category and kind not empty (else the future holds a validation Error).
  std::future<Result<int64_t>> Append(Event event);
  // As Append above, for a caller that must not wait (the reactor): `done` gets the sequence number
  // once it is durable, or the error, on a store thread. It must be quick and not throw.
  void Append(Event event, std::function<void(Result<int64_t>)> done);
  // The same append inside a write the writer is running (a GroupCommitWriter task), so the
  // event commits, or rolls back, with that write's own rows: a state change and its event
  // are durable together or not at all. Serializes `event.data` on the writer thread.
  // REQUIRES: `db` is the connection the writer passed to the running task.
  Result<int64_t> AppendIn(SqliteConnection& db, Event event);
  // As AppendIn, with the event's data already serialized (`data_json`, a JSON object;
  // event.data is ignored): a caller that builds the text itself, off the writer's thread.
  Result<int64_t> AppendSerializedIn(SqliteConnection& db, Event event,
                                     const std::string& data_json);
  Result<std::vector<Event>> Query(const EventFilter& filter);
  Result<std::vector<Event>> Follow(const EventFilter& filter, Duration timeout);
  // Deletes events older than max_age and beyond the newest max_count; returns how many.
  std::future<Result<int64_t>> ApplyRetention(const RetentionPolicy& policy);
  // Runs ApplyRetention in the background every `interval` (on the writer thread).
  void StartRetention(const RetentionPolicy& policy, Duration interval);
  // One JSON object per line, in sequence order; returns the number written.
  Result<int64_t> ExportJsonLines(const EventFilter& filter, std::ostream& out);

  // The highest committed sequence number this journal has seen (0 if none yet).
  int64_t LastCommittedSeq() const;

 private:
  class AppendWrite;
  // The append as the writer runs it (time filled in, data serialized here, on the caller's
  // thread, to keep the writer thread's work small). REQUIRES: category and kind not empty.
  std::unique_ptr<AppendWrite> MakeAppend(Event event);
  Result<int64_t> Insert(SqliteConnection& db, const Event& event, const std::string& data);

  Result<int64_t> Delete(SqliteConnection& db, const RetentionPolicy& policy);
  void OnCommit(SqliteConnection& db);

  Database& database_;
  GroupCommitWriter& writer_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable committed_;
  int64_t committed_seq_ = 0;  // the highest sequence number in the table after a commit
  // The newest time written: events are stamped by their callers on several threads and may
  // reach the writer a little out of order; a later sequence number never gets an earlier time.
  // Writer thread only.
  int64_t last_time_ms_ = 0;
};

}  // namespace rebound::store
