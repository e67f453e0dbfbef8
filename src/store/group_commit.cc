#include "store/group_commit.h"

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
    : database_(database), clock_(clock), thread_([this] { Loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() { Stop(); }

std::future<Status> GroupCommitWriter::SubmitStatus(
    std::function<Status(SqliteConnection&)> write) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto outcome = std::make_shared<Status>();
  std::future<Status> future = promise->get_future();
  Enqueue({[write = std::move(write), outcome](SqliteConnection& db) {
             *outcome = write(db);
             return *outcome;
           },
           [promise, outcome](const Status& commit) {
             promise->set_value(commit.ok() ? *outcome : commit);
           }});
  return future;
}

void GroupCommitWriter::Enqueue(Task task) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back(std::move(task));
      wake_.notify_one();
      return;
    }
  }
  task.finish(ResourceError("store is closed; the write was not made"));
}

void GroupCommitWriter::AddCommitListener(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  commit_listeners_.push_back(std::move(listener));
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
    }
    if (!batch.empty()) {
      CommitBatch(batch);
    }
    RunDueMaintenance();
  }
}

void GroupCommitWriter::CommitBatch(std::vector<Task>& batch) {
  std::lock_guard db_lock(database_.write_mutex());
  std::vector<Task*> pending;
  for (Task& task : batch) {
    pending.push_back(&task);
  }
  while (!pending.empty()) {
    const std::optional<size_t> culprit = TryCommit(pending);
    if (!culprit) {
      return;
    }
    // SQLite rolled the whole transaction back on this write's error (a full disk, an I/O
    // error): it gets its own error, and the innocent writes are run again without it.
    pending[*culprit]->finish(OkStatus());
    pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(*culprit));
  }
}

std::optional<size_t> GroupCommitWriter::TryCommit(const std::vector<Task*>& pending) {
  SqliteConnection& db = database_.write_connection();
  const MonoTime start = clock_.MonotonicNow();
  Status commit = db.Exec("BEGIN IMMEDIATE");
  for (size_t i = 0; commit.ok() && i < pending.size(); ++i) {
    // Each write in its own savepoint: a failed write is undone alone.
    commit = RunCached(db, "SAVEPOINT w");
    if (!commit.ok()) {
      break;
    }
    if (pending[i]->run(db).ok()) {
      (void)RunCached(db, "RELEASE w");
    } else if (!db.InTransaction()) {
      return i;
    } else {
      (void)RunCached(db, "ROLLBACK TO w");
      (void)RunCached(db, "RELEASE w");
    }
  }
  if (commit.ok()) {
    commit = db.Exec("COMMIT");
  }
  if (!commit.ok()) {
    (void)db.Exec("ROLLBACK");
    commit = commit.error().WithContext("commit of " + std::to_string(pending.size()) +
                                        " write(s) failed; none was made");
  }
  RecordCommit(pending.size(), commit, clock_.MonotonicNow() - start);
  for (Task* task : pending) {
    task->finish(commit);
  }
  return std::nullopt;
}

void GroupCommitWriter::RecordCommit(size_t writes, const Status& commit, Duration elapsed) {
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(mutex_);
    ++stats_.transactions;
    stats_.writes += static_cast<int64_t>(writes);
    stats_.failed_commits += commit.ok() ? 0 : 1;
    stats_.commit_time_total += elapsed;
    listeners = commit_listeners_;
  }
  if (commit.ok()) {
    for (auto& listener : listeners) {
      listener();
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
    batch.push_back({[&task, record_failure](SqliteConnection& db) {
                       Status status = task(db);
                       record_failure(status);
                       return status;
                     },
                     record_failure});
    CommitBatch(batch);
  }
}

void GroupCommitWriter::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

WriterStats GroupCommitWriter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace rebound::store
