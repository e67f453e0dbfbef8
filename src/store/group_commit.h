#pragma once

// GroupCommitWriter: the one thread that writes to the database, and the reason rebound can
// acknowledge hundreds of thousands of durable writes per second on a disk that fsyncs a
// few thousand times per second.
//
//   GroupCommitWriter writer(*database);
//   std::future<Result<int64_t>> seq = writer.Submit<int64_t>([&](SqliteConnection& db)
//       -> Result<int64_t> { ... INSERT ...; return db.LastInsertRowId(); });
//   Result<int64_t> durable = seq.get();   // resolves only after COMMIT with synchronous=FULL
//
// Everything queued when a transaction starts goes into it; a write that fails is rolled back
// alone and gets its own error while the others commit. If the COMMIT itself fails (disk
// full, I/O error) every write in it gets that error: none was acknowledged, none is lost.
//
// Savepoints cost two statements and a copy of every page a write touches, for the rare write
// that fails: a transaction first runs its writes without them. When a multi-statement write
// fails, the whole transaction is rolled back and its writes run again, each in its own
// savepoint (so a write's Run may be called twice, as after a disk error; it must not mind).
//
// Maintenance tasks (retention, cleanup) run on the same thread at their interval.
// Thread-safe. The database must outlive the writer; the destructor drains the queue.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "store/database.h"

namespace rebound::store {

namespace detail {
// Writes are caller code: a throw becomes that write's error instead of ending the writer.
template <typename Fn>
auto CallWrite(Fn& write, SqliteConnection& db) -> std::invoke_result_t<Fn&, SqliteConnection&> {
  try {
    return write(db);
  } catch (const std::exception& error) {
    return UnknownError(std::string("write threw: ") + error.what());
  } catch (...) {
    return UnknownError("write threw a non-standard exception");
  }
}
}  // namespace detail

struct WriterStats {
  int64_t transactions = 0;
  int64_t writes = 0;
  int64_t failed_commits = 0;
  int64_t failed_maintenance = 0;
  std::string last_maintenance_error;
  Duration commit_time_total{0};
};

class GroupCommitWriter {
 public:
  explicit GroupCommitWriter(Database& database, const Clock& clock = DefaultClock());
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  // How a write is isolated from the others in its transaction. A write that makes at most
  // one change (one INSERT, UPDATE or DELETE statement) is undone by SQLite itself if that
  // statement fails, and can skip the savepoint that a multi-statement write needs.
  enum class Isolation { kSavepoint, kSingleStatement };

  // A write as the writer runs it, for callers that bring their own (one allocation per
  // write: the EventJournal's appends). Run() executes inside the transaction; Finish() gets
  // the outcome once the transaction is durable or has failed, on the writer's or its
  // completion thread, and must be quick (a Finish that waits for a later write to be
  // finished would wait forever). Writes are finished in the order they were submitted,
  // across transactions too (but for writes refused after Stop, finished at once): a caller
  // that reacts to Finish sees its writes resolve in order. Neither may throw (wrap caller
  // code in detail::CallWrite, as Submit does).
  class PendingWrite {
   public:
    explicit PendingWrite(Isolation isolation = Isolation::kSavepoint)
        : savepoint_(isolation == Isolation::kSavepoint) {}
    virtual ~PendingWrite() = default;
    // The write's own status: an error is undone alone (its savepoint or statement).
    virtual Status Run(SqliteConnection& db) = 0;
    // `commit` is OK when the transaction committed; Run's error is the write's to keep.
    virtual void Finish(const Status& commit) = 0;
    // Called on the writer thread right after the transaction holding this write committed,
    // for its writes in submission order and before any of them is finished: what a write
    // mirrors in memory (e.g. counts) then follows the commits exactly, in order. Also called
    // for a write whose own Run failed (its change was undone: it knows its own outcome),
    // not for one whose error made SQLite abort the transaction. Must be quick and not throw.
    virtual void Committed() {}
    bool savepoint() const { return savepoint_; }

   private:
    bool savepoint_;
  };

  // Queues `write`; after Stop() it is finished at once with a "store is closed" error.
  void Submit(std::unique_ptr<PendingWrite> write);

  template <typename T>
  std::future<Result<T>> Submit(std::function<Result<T>(SqliteConnection&)> write,
                                Isolation isolation = Isolation::kSavepoint) {
    auto promise = std::make_shared<std::promise<Result<T>>>();
    std::future<Result<T>> future = promise->get_future();
    SubmitThen<T>(
        std::move(write), [promise](Result<T> outcome) { promise->set_value(std::move(outcome)); },
        isolation);
    return future;
  }

  // As Submit, for a caller that must not wait: `done` gets the outcome once it is durable (or
  // has failed), on the writer's or its completion thread. It must be quick and not throw.
  template <typename T>
  void SubmitThen(std::function<Result<T>(SqliteConnection&)> write,
                  std::function<void(Result<T>)> done,
                  Isolation isolation = Isolation::kSavepoint) {
    Submit(std::make_unique<FunctionWrite<T>>(std::move(write), std::move(done), isolation));
  }

  std::future<Status> SubmitStatus(std::function<Status(SqliteConnection&)> write);

  // Called on the writer thread after every successful commit, with the write connection so
  // that it can read what is now committed (e.g. to wake followers). Must not write.
  // REQUIRES: added before writes are submitted.
  void AddCommitListener(std::function<void(SqliteConnection&)> listener);
  // Called on the writer thread with the duration of every commit, successful or not (e.g.
  // a latency histogram). May be added at any time; must be cheap and must not throw.
  void AddCommitTimeObserver(std::function<void(Duration elapsed)> observer);
  // Runs `task` in its own transaction every `interval`. REQUIRES: before writes.
  void AddMaintenance(Duration interval, std::function<Status(SqliteConnection&)> task);

  // Stops accepting writes, commits what is queued, joins the thread. Idempotent.
  void Stop();

  WriterStats stats() const;

 private:
  // A write given as two functions (Submit, SubmitThen).
  template <typename T>
  class FunctionWrite final : public PendingWrite {
   public:
    FunctionWrite(std::function<Result<T>(SqliteConnection&)> write,
                  std::function<void(Result<T>)> done, Isolation isolation)
        : PendingWrite(isolation), write_(std::move(write)), done_(std::move(done)) {}
    Status Run(SqliteConnection& db) override {
      outcome_.emplace(detail::CallWrite(write_, db));
      return outcome_->ok() ? OkStatus() : Status(outcome_->error());
    }
    void Finish(const Status& commit) override {
      if (!commit.ok() || !outcome_) {
        done_(commit.ok() ? UnknownError("the write was never run") : commit.error());
      } else {
        done_(std::move(*outcome_));
      }
    }

   private:
    std::function<Result<T>(SqliteConnection&)> write_;
    std::function<void(Result<T>)> done_;
    std::optional<Result<T>> outcome_;
  };
  using Task = std::unique_ptr<PendingWrite>;
  struct Maintenance {
    Duration interval;
    std::function<Status(SqliteConnection&)> task;
    MonoTime next;
  };

  struct Completion {
    std::vector<Task> tasks;
    std::vector<bool> aborted;  // by task: finished with its own error, not the commit's
    Status commit;
  };

  void Loop();
  void CommitBatch(std::vector<Task> batch);
  // How one try at a transaction ended: committed or not (`commit`), or rolled back before
  // its COMMIT, either by SQLite on the error of the write at `culprit`, or by the writer
  // for `needs_savepoints` (a write failed while run without its savepoint).
  struct Try {
    Status commit = OkStatus();
    std::optional<size_t> culprit = std::nullopt;
    bool needs_savepoints = false;
  };
  // One transaction over `pending` but the `aborted` ones; `savepoints`: each write that asks
  // for one gets it.
  Try TryCommit(std::vector<Task>& pending, const std::vector<bool>& aborted, bool savepoints);
  // The first failed write of `pending`, run without savepoints: undoes the transaction.
  Try RollBackForSavepoints(SqliteConnection& db);
  void RecordCommit(SqliteConnection& db, size_t writes, const Status& commit, Duration elapsed);
  // Resolving futures wakes one thread per write: a second thread does it, so the writer
  // starts the next transaction (and its fsync) meanwhile. Writes are finished in the order
  // they were submitted, across transactions too.
  void Complete(Completion completion);
  void FinishAll(Completion& completion);
  void CompletionLoop();
  void RunDueMaintenance();
  std::optional<MonoTime> NextMaintenance() const;

  Database& database_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Task> queue_;
  bool stopping_ = false;
  std::vector<std::function<void(SqliteConnection&)>> commit_listeners_;
  std::vector<std::function<void(Duration)>> commit_time_observers_;  // guarded by mutex_
  std::vector<Maintenance> maintenance_;
  WriterStats stats_;  // guarded by mutex_

  std::mutex stop_mutex_;
  std::mutex completion_mutex_;
  std::condition_variable completion_ready_;
  std::deque<Completion> completions_;
  bool completion_busy_ = false;  // finishing writes it took from completions_
  bool completion_stopping_ = false;

  std::thread completion_thread_;
  std::thread thread_;  // last: starts after every member it uses is constructed
};

}  // namespace rebound::store
