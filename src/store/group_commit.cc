#include "store/group_commit.h"

#include <algorithm>

namespace rebound::store {
namespace {

Status RunCached(SqliteConnection& db, const std::string& sql) {
  auto stmt = db.Cached(sql);
  if (!stmt.ok()) {
    return stmt.error();
  }
  return (*stmt)->StepDone();
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(Database& database, const Clock& clock)
    : database_(database),
      clock_(clock),
      completion_thread_([this] { CompletionLoop(); }),
      thread_([this] { Loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

namespace {

// A write whose outcome is a Status (SubmitStatus, maintenance tasks).
class StatusWrite final : public GroupCommitWriter::PendingWrite {
 public:
  StatusWrite(std::function<Status(SqliteConnection&)> write,
              std::function<void(const Status&)> done)
      : write_(std::move(write)), done_(std::move(done)) {}
  Status Run(SqliteConnection& db) override {
    outcome_ = detail::CallWrite(write_, db);
    return outcome_;
  }
  void Finish(const Status& commit) override { done_(commit.ok() ? outcome_ : commit); }

 private:
  std::function<Status(SqliteConnection&)> write_;
  std::function<void(const Status&)> done_;
  Status outcome_ = OkStatus();
};

}  // namespace

std::future<Status> GroupCommitWriter::SubmitStatus(
    std::function<Status(SqliteConnection&)> write) {
  auto promise = std::make_shared<std::promise<Status>>();
  std::future<Status> future = promise->get_future();
  Submit(std::make_unique<StatusWrite>(
      std::move(write), [promise](const Status& outcome) { promise->set_value(outcome); }));
  return future;
}

void GroupCommitWriter::Submit(std::unique_ptr<PendingWrite> write) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(write));
      wake_.notify_one();
      return;
    }
  }
  write->Finish(ResourceError("store is closed; the write was not made"));
}

void GroupCommitWriter::AddCommitListener(std::function<void(SqliteConnection&)> listener) {
  std::lock_guard lock(mutex_);
  commit_listeners_.push_back(std::move(listener));
}

void GroupCommitWriter::AddCommitTimeObserver(std::function<void(Duration elapsed)> observer) {
  std::lock_guard lock(mutex_);
  commit_time_observers_.push_back(std::move(observer));
}

void GroupCommitWriter::AddMaintenance(Duration interval,
                                       std::function<Status(SqliteConnection&)> task) {
  std::lock_guard lock(mutex_);
  maintenance_.push_back({interval, std::move(task), clock_.MonotonicNow() + interval});
  wake_.notify_one();
}

std::optional<MonoTime> GroupCommitWriter::NextMaintenance() const {
  std::optional<MonoTime> next;
  for (const Maintenance& m : maintenance_) {
    if (!next || m.next < *next) {
      next = m.next;
    }
  }
  return next;
}

void GroupCommitWriter::Loop() {
  while (true) {
    std::vector<Task> batch;
    {
      std::unique_lock lock(mutex_);
      while (queue_.empty() && !stopping_) {
        const std::optional<MonoTime> next = NextMaintenance();
        if (next && clock_.MonotonicNow() >= *next) {
          break;
        }
        if (next) {
          // The condition variable waits on the real steady clock; the Clock decides due-ness.
          wake_.wait_for(
              lock, std::min<Duration>(*next - clock_.MonotonicNow(), std::chrono::seconds(1)));
        } else {
          wake_.wait(lock);
        }
      }
      if (queue_.empty() && stopping_) {
        return;
      }
      batch.swap(queue_);
      // The next batch is about as large as this one: one allocation instead of growing
      // (and moving every queued write) from empty.
      queue_.reserve(batch.size());
    }
    if (!batch.empty()) {
      CommitBatch(std::move(batch));
    }
    RunDueMaintenance();
  }
}

void GroupCommitWriter::CommitBatch(std::vector<Task> batch) {
  std::lock_guard db_lock(database_.write_mutex());
  // Writes whose error made SQLite abort the whole transaction (a full disk, an I/O error):
  // each keeps its own error and the innocent writes run again without it. They stay in
  // their place, so that every write is finished in submission order.
  std::vector<bool> aborted(batch.size(), false);
  bool savepoints = false;  // until a write fails: see the header
  while (true) {
    if (std::find(aborted.begin(), aborted.end(), false) == aborted.end()) {
      Complete({std::move(batch), std::move(aborted), OkStatus()});  // nothing left to commit
      return;
    }
    Try attempt = TryCommit(batch, aborted, savepoints);
    if (attempt.needs_savepoints) {
      savepoints = true;
    } else if (attempt.culprit) {
      aborted[*attempt.culprit] = true;
    } else {
      Complete({std::move(batch), std::move(aborted), attempt.commit});
      return;
    }
  }
}

GroupCommitWriter::Try GroupCommitWriter::RollBackForSavepoints(SqliteConnection& db) {
  Status rolled_back = RunCached(db, "ROLLBACK");
  db.ResetCached();
  if (!rolled_back.ok()) {
    // Still in the transaction: every write of this batch gets the error, and the next batch
    // rolls it back before its BEGIN (TryCommit).
    return {.commit = rolled_back.error().WithContext("undo a batch to run it in savepoints")};
  }
  return {.needs_savepoints = true};
}

GroupCommitWriter::Try GroupCommitWriter::TryCommit(std::vector<Task>& pending,
                                                    const std::vector<bool>& aborted,
                                                    bool savepoints) {
  SqliteConnection& db = database_.write_connection();
  const MonoTime start = clock_.MonotonicNow();
  if (db.InTransaction()) {
    // Left open by a ROLLBACK that failed (RollBackForSavepoints): nothing of it may commit,
    // and this batch's BEGIN would fail inside it.
    (void)RunCached(db, "ROLLBACK");
    db.ResetCached();
  }
  Status commit = RunCached(db, "BEGIN IMMEDIATE");
  size_t writes = 0;
  for (size_t i = 0; commit.ok() && i < pending.size(); ++i) {
    if (aborted[i]) {
      continue;
    }
    ++writes;
    // A write that asks for a savepoint gets one once a write has failed (see the header); a
    // single statement is undone by SQLite itself.
    const bool savepoint = savepoints && pending[i]->savepoint();
    if (savepoint) {
      commit = RunCached(db, "SAVEPOINT w");
      if (!commit.ok()) {
        break;
      }
    }
    const bool written = pending[i]->Run(db).ok();
    if (!written && !db.InTransaction()) {
      db.ResetCached();
      return {.culprit = i};
    }
    if (!written && !savepoints && pending[i]->savepoint()) {
      return RollBackForSavepoints(db);
    }
    if (savepoint && !written) {
      commit = RunCached(db, "ROLLBACK TO w");  // if undoing fails, nothing may commit
    }
    if (savepoint && commit.ok()) {
      commit = RunCached(db, "RELEASE w");
    }
  }
  if (commit.ok()) {
    commit = RunCached(db, "COMMIT");
  }
  if (commit.ok()) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!aborted[i]) {
        pending[i]->Committed();
      }
    }
  }
  if (!commit.ok()) {
    (void)RunCached(db, "ROLLBACK");
    commit = commit.error().WithContext("commit of " + std::to_string(writes) +
                                        " write(s) failed; none was made");
  }
  RecordCommit(db, writes, commit, clock_.MonotonicNow() - start);
  db.ResetCached();  // no read transaction may outlive the transaction (WAL restarts)
  return {.commit = commit};
}

void GroupCommitWriter::FinishAll(Completion& completion) {
  for (size_t i = 0; i < completion.tasks.size(); ++i) {
    // An aborted write keeps its own error (an OK commit hands it over).
    completion.tasks[i]->Finish(completion.aborted[i] ? OkStatus() : completion.commit);
  }
}

void GroupCommitWriter::Complete(Completion completion) {
  // A few wake-ups cost less than the hand-off to the completion thread; but while that
  // thread still has writes of earlier transactions to finish, these wait their turn.
  constexpr size_t kInlineCompletions = 4;
  {
    std::lock_guard lock(completion_mutex_);
    if (completion.tasks.size() > kInlineCompletions || !completions_.empty() || completion_busy_) {
      completions_.push_back(std::move(completion));
      completion_ready_.notify_one();
      return;
    }
  }
  FinishAll(completion);
}

void GroupCommitWriter::CompletionLoop() {
  std::unique_lock lock(completion_mutex_);
  while (true) {
    completion_ready_.wait(lock, [&] { return !completions_.empty() || completion_stopping_; });
    if (completions_.empty()) {
      return;
    }
    std::deque<Completion> ready;
    ready.swap(completions_);
    completion_busy_ = true;
    lock.unlock();
    for (Completion& completion : ready) {
      FinishAll(completion);
    }
    lock.lock();
    completion_busy_ = false;
  }
}

void GroupCommitWriter::RecordCommit(SqliteConnection& db, size_t writes, const Status& commit,
                                     Duration elapsed) {
  std::vector<std::function<void(SqliteConnection&)>> listeners;
  std::vector<std::function<void(Duration)>> observers;
  {
    std::lock_guard lock(mutex_);
    ++stats_.transactions;
    stats_.writes += static_cast<int64_t>(writes);
    stats_.failed_commits += commit.ok() ? 0 : 1;
    stats_.commit_time_total += elapsed;
    listeners = commit_listeners_;
    observers = commit_time_observers_;
  }
  for (auto& observer : observers) {
    observer(elapsed);
  }
  if (commit.ok()) {
    for (auto& listener : listeners) {
      listener(db);
    }
  }
}

void GroupCommitWriter::RunDueMaintenance() {
  std::vector<std::function<Status(SqliteConnection&)>> due;
  {
    std::lock_guard lock(mutex_);
    const MonoTime now = clock_.MonotonicNow();
    for (Maintenance& m : maintenance_) {
      if (now >= m.next) {
        due.push_back(m.task);
        m.next = now + m.interval;
      }
    }
  }
  for (auto& task : due) {
    auto record_failure = [this](const Status& status) {
      if (!status.ok()) {
        std::lock_guard lock(mutex_);
        ++stats_.failed_maintenance;
        stats_.last_maintenance_error = status.error().ToString();
      }
    };
    std::vector<Task> batch;
    // Finished with the task's own error, or the commit's: counted once either way.
    batch.push_back(std::make_unique<StatusWrite>(task, record_failure));
    CommitBatch(std::move(batch));
  }
}

void GroupCommitWriter::Stop() {
  std::lock_guard once(stop_mutex_);  // two concurrent Stop()s must not both join
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  {
    std::lock_guard lock(completion_mutex_);
    completion_stopping_ = true;
    completion_ready_.notify_one();
  }
  if (completion_thread_.joinable()) {
    completion_thread_.join();
  }
}

WriterStats GroupCommitWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace rebound::store
