#include "store/group_commit.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "testing/temp_dir.h"

namespace rebound::store {
namespace {

using rebound::testing::TempDir;

std::function<Result<int64_t>(SqliteConnection&)> InsertEvent(const std::string& kind) {
  return [kind](SqliteConnection& db) -> Result<int64_t> {
    REBOUND_RETURN_IF_ERROR(
        db.Exec("INSERT INTO events(time_ms, category, kind) VALUES (1, 'test', '" + kind + "')"));
    return db.LastInsertRowId();
  };
}

int64_t CountEvents(Database& db) {
  return *db.Read([](SqliteConnection& c) { return c.QueryInt("SELECT COUNT(*) FROM events"); });
}

TEST(GroupCommitTest, FutureResolvesWithTheValueAfterCommit) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  Result<int64_t> seq = writer.Submit<int64_t>(InsertEvent("a")).get();
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 1);
  // Visible to another connection: it is committed, not just written.
  EXPECT_EQ(CountEvents(*db), 1);
}

TEST(GroupCommitTest, CommitTimeObserversSeeEveryCommitsDuration) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::atomic<int> commits = 0;
  std::atomic<int64_t> total_ns = 0;
  writer.AddCommitTimeObserver([&](Duration elapsed) {
    ++commits;
    total_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
  });
  ASSERT_TRUE(writer.Submit<int64_t>(InsertEvent("a")).get().ok());
  ASSERT_TRUE(writer.Submit<int64_t>(InsertEvent("b")).get().ok());
  EXPECT_EQ(commits, writer.stats().transactions);
  EXPECT_GE(commits, 2);
  EXPECT_EQ(total_ns,
            std::chrono::duration_cast<std::chrono::nanoseconds>(writer.stats().commit_time_total)
                .count());
}

TEST(GroupCommitTest, ConcurrentWritersShareTransactions) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(writer.Submit<int64_t>(InsertEvent("x")).get().ok());
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(CountEvents(*db), kThreads * kPerThread);
  const WriterStats stats = writer.stats();
  EXPECT_EQ(stats.writes, kThreads * kPerThread);
  EXPECT_LT(stats.transactions, stats.writes);  // group commit happened
}

TEST(GroupCommitTest, AFailingWriteIsRolledBackAloneAndOthersCommit) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  // Stall the writer on a first write so the next three land in one batch (the batch runs
  // twice: the blocker too).
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  GroupCommitWriter writer(*db);
  auto blocker = writer.SubmitStatus([released](SqliteConnection&) {
    released.wait();
    return OkStatus();
  });
  auto good1 = writer.Submit<int64_t>(InsertEvent("good1"));
  auto bad = writer.Submit<int64_t>([](SqliteConnection& c) -> Result<int64_t> {
    REBOUND_RETURN_IF_ERROR(
        c.Exec("INSERT INTO events(time_ms, category, kind) VALUES (1, 'test', 'partial')"));
    return ValidationError("second step failed");
  });
  auto good2 = writer.Submit<int64_t>(InsertEvent("good2"));
  release.set_value();
  EXPECT_TRUE(blocker.get().ok());
  EXPECT_TRUE(good1.get().ok());
  Result<int64_t> failed = bad.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "second step failed");
  EXPECT_TRUE(good2.get().ok());
  // good1 and good2 are in; the failed write's partial insert is not.
  auto kinds = db->Read([](SqliteConnection& c) -> Result<std::string> {
    auto stmt = c.Prepare("SELECT group_concat(kind, ',') FROM events");
    (void)stmt->Step();
    return stmt->ColumnText(0);
  });
  EXPECT_EQ(*kinds, "good1,good2");
}

TEST(GroupCommitTest, AWriteThatThrowsFailsAloneAndTheWriterLivesOn) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  auto thrown = writer.Submit<int64_t>(
      [](SqliteConnection&) -> Result<int64_t> { throw std::runtime_error("bug in a write"); });
  Result<int64_t> failed = thrown.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("bug in a write"), std::string::npos);
  EXPECT_TRUE(writer.Submit<int64_t>(InsertEvent("after")).get().ok());
  EXPECT_EQ(CountEvents(*db), 1);
}

TEST(GroupCommitTest, StoppedWriterRejectsWithAClearError) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  auto before = writer.Submit<int64_t>(InsertEvent("before"));
  writer.Stop();
  EXPECT_TRUE(before.get().ok());  // queued work is committed on stop
  Result<int64_t> after = writer.Submit<int64_t>(InsertEvent("after")).get();
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.error().message().find("store is closed"), std::string::npos);
}

TEST(GroupCommitTest, DatabaseFullIsAResourceErrorAndLosesNothingAcknowledged) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  ASSERT_TRUE(writer.Submit<int64_t>(InsertEvent("kept")).get().ok());
  auto pages = db->Read([](SqliteConnection& c) { return c.QueryInt("PRAGMA page_count"); });
  ASSERT_TRUE(
      db->write_connection().Exec("PRAGMA max_page_count = " + std::to_string(*pages)).ok());
  const std::string big(64 * 1024, 'x');
  Result<int64_t> full =
      writer
          .Submit<int64_t>([&](SqliteConnection& c) -> Result<int64_t> {
            auto stmt = c.Prepare(
                "INSERT INTO events(time_ms, category, kind, data) VALUES (1,'a','b',?1)");
            stmt->BindText(1, big);
            REBOUND_RETURN_IF_ERROR(stmt->StepDone());
            return c.LastInsertRowId();
          })
          .get();
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().category(), ErrorCategory::kResource) << full.error().ToString();
  EXPECT_EQ(CountEvents(*db), 1);
  // Once space is back, writes go through again.
  ASSERT_TRUE(db->write_connection().Exec("PRAGMA max_page_count = 1000000").ok());
  EXPECT_TRUE(writer.Submit<int64_t>(InsertEvent("later")).get().ok());
  EXPECT_EQ(CountEvents(*db), 2);
}

TEST(GroupCommitTest, AWriteThatMakesSqliteAbortTheTransactionDoesNotTakeOthersDown) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  ASSERT_TRUE(writer.Submit<int64_t>(InsertEvent("first")).get().ok());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = writer.SubmitStatus([&](SqliteConnection& c) {
    released.wait();  // runs twice: the batch is retried without the failed write
    // Leave room for small rows only: the 256 KiB row below hits SQLITE_FULL.
    auto pages = c.QueryInt("PRAGMA page_count");
    return c.Exec("PRAGMA max_page_count = " + std::to_string(*pages + 4));
  });
  auto good1 = writer.Submit<int64_t>(InsertEvent("good1"));
  auto full = writer.Submit<int64_t>([](SqliteConnection& c) -> Result<int64_t> {
    auto stmt =
        c.Prepare("INSERT INTO events(time_ms, category, kind, data) VALUES (1,'a','b',?1)");
    stmt->BindText(1, std::string(256 * 1024, 'z'));
    REBOUND_RETURN_IF_ERROR(stmt->StepDone());
    return c.LastInsertRowId();
  });
  auto good2 = writer.Submit<int64_t>(InsertEvent("good2"));
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  EXPECT_TRUE(good1.get().ok());
  Result<int64_t> failed = full.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().category(), ErrorCategory::kResource) << failed.error().ToString();
  EXPECT_TRUE(good2.get().ok());
  EXPECT_EQ(CountEvents(*db), 3);
}

// A real full disk: a 1 MiB tmpfs. Needs root (mount); CI runs as root.
TEST(GroupCommitTest, RealFullDiskLosesNothingAcknowledged) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "mounting a small tmpfs needs root";
  }
  TempDir dir;
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=1m"), 0);
  int64_t acknowledged = 0;
  Error last_error = UnknownError("none");
  {
    auto db = *Database::Open(dir.path());
    GroupCommitWriter writer(*db);
    const std::string blob(16 * 1024, 'y');
    for (int i = 0; i < 200; ++i) {
      Result<int64_t> r =
          writer
              .Submit<int64_t>([&](SqliteConnection& c) -> Result<int64_t> {
                auto stmt = c.Prepare(
                    "INSERT INTO events(time_ms, category, kind, data) VALUES (1,'a','b',?1)");
                stmt->BindText(1, blob);
                REBOUND_RETURN_IF_ERROR(stmt->StepDone());
                return c.LastInsertRowId();
              })
              .get();
      if (!r.ok()) {
        last_error = r.error();
        break;
      }
      ++acknowledged;
    }
  }
  EXPECT_GT(acknowledged, 0);
  EXPECT_LT(acknowledged, 200);
  EXPECT_EQ(last_error.category(), ErrorCategory::kResource) << last_error.ToString();
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE(db.ok()) << db.error().ToString();
    EXPECT_EQ(CountEvents(**db), acknowledged);
  }
  ::umount2(dir.path().c_str(), MNT_DETACH);
}

// A caller's own write object: Run inside the transaction, Finish once it is durable.
class RecordingWrite final : public GroupCommitWriter::PendingWrite {
 public:
  RecordingWrite(Database& db, std::string kind, bool fail_after_insert,
                 std::promise<std::pair<Status, int64_t>>& finished)
      : db_(db), kind_(std::move(kind)), fail_(fail_after_insert), finished_(finished) {}
  Status Run(SqliteConnection& c) override {
    REBOUND_RETURN_IF_ERROR(InsertEvent(kind_)(c).ok() ? OkStatus() : UnknownError("insert"));
    REBOUND_RETURN_IF_ERROR(InsertEvent(kind_)(c).ok() ? OkStatus() : UnknownError("insert"));
    return fail_ ? ValidationError("refused after two inserts") : OkStatus();
  }
  void Finish(const Status& commit) override {
    // Read through another connection: what Finish sees is committed, not just written.
    finished_.set_value({commit, CountEvents(db_)});
  }

 private:
  Database& db_;
  std::string kind_;
  bool fail_;
  std::promise<std::pair<Status, int64_t>>& finished_;
};

TEST(GroupCommitTest, APendingWriteIsFinishedOnlyOnceItsTransactionHasCommitted) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::promise<std::pair<Status, int64_t>> finished;
  writer.Submit(std::make_unique<RecordingWrite>(*db, "a", false, finished));
  auto [commit, visible] = finished.get_future().get();
  EXPECT_TRUE(commit.ok());
  EXPECT_EQ(visible, 2);
}

TEST(GroupCommitTest, AFailingPendingWriteIsUndoneAloneInItsSavepoint) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::promise<std::pair<Status, int64_t>> failed;
  std::promise<std::pair<Status, int64_t>> kept;
  writer.Submit(std::make_unique<RecordingWrite>(*db, "bad", true, failed));
  writer.Submit(std::make_unique<RecordingWrite>(*db, "good", false, kept));
  EXPECT_TRUE(failed.get_future().get().first.ok());  // the transaction itself committed
  EXPECT_TRUE(kept.get_future().get().first.ok());
  EXPECT_EQ(CountEvents(*db), 2);  // the good write's two rows, none of the bad one's
  EXPECT_EQ(*db->Read([](SqliteConnection& c) {
    return c.QueryInt("SELECT COUNT(*) FROM events WHERE kind = 'bad'");
  }),
            0);
}

// Runs the writes of `submit` in one transaction: they are queued while the writer is inside
// a stalled write of its own, so they all make its next batch.
void InOneTransaction(GroupCommitWriter& writer, const std::function<void()>& submit) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto started = std::make_shared<std::promise<void>>();
  std::future<void> running = started->get_future();
  auto blocker = writer.SubmitStatus([released, started](SqliteConnection&) {
    started->set_value();  // its batch is only itself: it never runs twice
    released.wait();
    return OkStatus();
  });
  running.wait();
  submit();
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
}

// Writes run without savepoints while none fails: each runs once.
TEST(GroupCommitTest, WritesThatSucceedRunOnce) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::atomic<int> runs{0};
  std::vector<std::future<Result<int64_t>>> writes;
  InOneTransaction(writer, [&] {
    for (int i = 0; i < 3; ++i) {
      writes.push_back(writer.Submit<int64_t>([&runs](SqliteConnection& c) {
        ++runs;
        return InsertEvent("ok")(c);
      }));
    }
  });
  for (auto& write : writes) {
    EXPECT_TRUE(write.get().ok());
  }
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(CountEvents(*db), 3);
}

// A multi-statement write that fails undoes its transaction, which runs again with a savepoint
// per write: the others run twice and commit once; the failed one's first statement is gone.
TEST(GroupCommitTest, AFailedWriteRunsItsTransactionAgainInSavepoints) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::atomic<int> innocent_runs{0};
  std::atomic<int> failing_runs{0};
  std::future<Result<int64_t>> before, failing, after;
  InOneTransaction(writer, [&] {
    before = writer.Submit<int64_t>([&](SqliteConnection& c) {
      ++innocent_runs;
      return InsertEvent("before")(c);
    });
    failing = writer.Submit<int64_t>([&](SqliteConnection& c) -> Result<int64_t> {
      ++failing_runs;
      REBOUND_RETURN_IF_ERROR(InsertEvent("partial")(c).ok() ? OkStatus() : UnknownError("i"));
      return ConflictError("refused after its insert");
    });
    after = writer.Submit<int64_t>(InsertEvent("after"),
                                   GroupCommitWriter::Isolation::kSingleStatement);
  });
  EXPECT_TRUE(before.get().ok());
  EXPECT_EQ(failing.get().error().message(), "refused after its insert");
  EXPECT_TRUE(after.get().ok());
  EXPECT_EQ(innocent_runs, 2);
  EXPECT_EQ(failing_runs, 2);
  auto kinds = db->Read([](SqliteConnection& c) -> Result<std::string> {
    auto stmt =
        c.Prepare("SELECT group_concat(kind, ',') FROM (SELECT kind FROM events ORDER BY seq)");
    (void)stmt->Step();
    return stmt->ColumnText(0);
  });
  EXPECT_EQ(*kinds, "before,after");
}

// A single-statement write that fails is undone by SQLite alone: nothing runs again.
TEST(GroupCommitTest, AFailedSingleStatementWriteRunsNothingAgain) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::atomic<int> runs{0};
  std::future<Result<int64_t>> good, bad;
  InOneTransaction(writer, [&] {
    good = writer.Submit<int64_t>([&](SqliteConnection& c) {
      ++runs;
      return InsertEvent("good")(c);
    });
    bad = writer.Submit<int64_t>(
        [](SqliteConnection& c) -> Result<int64_t> {
          REBOUND_RETURN_IF_ERROR(c.Exec("INSERT INTO no_such_table VALUES (1)"));
          return 0;
        },
        GroupCommitWriter::Isolation::kSingleStatement);
  });
  EXPECT_TRUE(good.get().ok());
  EXPECT_FALSE(bad.get().ok());
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(CountEvents(*db), 1);
}

// A write that logs its Finish; the first one's Finish (on the completion thread: its batch
// is large) waits until a write of the next transaction has run.
class FinishOrderWrite final : public GroupCommitWriter::PendingWrite {
 public:
  // `hold`: waited for before finishing. `rival`: waited for too, 200 ms at most (a write that
  // may be finished out of turn meanwhile, which would show in the order). `done`: set once
  // finished.
  FinishOrderWrite(int n, std::mutex& mutex, std::vector<int>& finished,
                   std::shared_future<void> hold = {}, std::shared_future<void> rival = {},
                   std::promise<void>* done = nullptr)
      : n_(n),
        mutex_(mutex),
        finished_(finished),
        hold_(std::move(hold)),
        rival_(std::move(rival)),
        done_(done) {}
  Status Run(SqliteConnection&) override { return OkStatus(); }
  void Finish(const Status&) override {
    if (hold_.valid()) {
      hold_.wait();
    }
    if (rival_.valid()) {
      (void)rival_.wait_for(std::chrono::milliseconds(200));
    }
    {
      std::lock_guard lock(mutex_);
      finished_.push_back(n_);
    }
    if (done_ != nullptr) {
      done_->set_value();
    }
  }

 private:
  int n_;
  std::mutex& mutex_;
  std::vector<int>& finished_;
  std::shared_future<void> hold_;
  std::shared_future<void> rival_;
  std::promise<void>* done_;
};

TEST(GroupCommitTest, WritesAreFinishedInSubmissionOrderAcrossTransactions) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::mutex mutex;
  std::vector<int> finished;
  std::promise<void> next_ran;
  std::shared_future<void> next_has_run = next_ran.get_future().share();
  std::promise<void> seven_finished;
  std::shared_future<void> seven_done = seven_finished.get_future().share();
  // Write 1 then also gives write 7 up to 200 ms to be finished out of turn (on the writer's
  // thread), which the order would show.
  // One batch of seven writes (finished on the completion thread: more than a few); write 1's
  // Finish holds that thread until a write of the next batch has run. The next batch (write
  // 7 and the releasing write, queued by writes of the first) is small: it would be finished
  // on the writer's thread at once, before writes 1-5, were it not waiting its turn.
  InOneTransaction(writer, [&] {
    writer.Submit(
        std::make_unique<FinishOrderWrite>(1, mutex, finished, next_has_run, seven_done));
    writer.SubmitStatus([&](SqliteConnection&) {
      writer.Submit(
          std::make_unique<FinishOrderWrite>(7, mutex, finished, std::shared_future<void>{},
                                             std::shared_future<void>{}, &seven_finished));
      return OkStatus();
    });
    for (int n = 2; n <= 5; ++n) {
      writer.Submit(std::make_unique<FinishOrderWrite>(n, mutex, finished));
    }
    writer.SubmitStatus([&](SqliteConnection&) {
      writer.SubmitStatus([&](SqliteConnection&) {
        next_ran.set_value();
        return OkStatus();
      });
      return OkStatus();
    });
  });
  next_has_run.wait();  // the next batch was queued before Stop, which would refuse it
  writer.Stop();        // drains: every write has been finished
  EXPECT_EQ(finished, (std::vector<int>{1, 2, 3, 4, 5, 7}));
}

// Logs "committed N" and "finished N" (with the commit's status) into a shared list.
class OrderWrite final : public GroupCommitWriter::PendingWrite {
 public:
  OrderWrite(int n, bool fail, std::mutex& mutex, std::vector<std::string>& log)
      : n_(n), fail_(fail), mutex_(mutex), log_(log) {}
  Status Run(SqliteConnection& db) override {
    if (auto inserted = InsertEvent("order")(db); !inserted.ok()) {
      return inserted.error();
    }
    return fail_ ? ValidationError("refused") : OkStatus();
  }
  void Committed() override { Append("committed " + std::to_string(n_)); }
  void Finish(const Status& commit) override {
    Append("finished " + std::to_string(n_) + (commit.ok() ? "" : " with an error"));
  }

 private:
  void Append(std::string entry) {
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(entry));
  }
  int n_;
  bool fail_;
  std::mutex& mutex_;
  std::vector<std::string>& log_;
};

TEST(GroupCommitTest, CommittedRunsForEachWriteInOrderBeforeAnyIsFinished) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::mutex mutex;
  std::vector<std::string> log;
  InOneTransaction(writer, [&] {
    for (int n = 1; n <= 6; ++n) {
      writer.Submit(std::make_unique<OrderWrite>(n, /*fail=*/n == 3, mutex, log));
    }
  });
  writer.Stop();  // drains: every write has been finished
  ASSERT_EQ(log.size(), 12u);
  for (int n = 1; n <= 6; ++n) {
    // The failed write's own change was undone, but its transaction committed.
    EXPECT_EQ(log[n - 1], "committed " + std::to_string(n));
  }
  for (size_t i = 6; i < log.size(); ++i) {
    EXPECT_TRUE(log[i].starts_with("finished ")) << log[i];
  }
  EXPECT_EQ(CountEvents(*db), 5);
}

// A COMMIT that fails (here: a deferred foreign key, as a disk error would) made none of the
// batch's writes: none hears Committed, each is finished with the commit's error.
TEST(GroupCommitTest, CommittedIsNotCalledWhenTheCommitFails) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  ASSERT_TRUE(
      db->write_connection()
          .Exec("PRAGMA foreign_keys = ON; CREATE TABLE p(id INTEGER PRIMARY KEY);"
                "CREATE TABLE c(pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
          .ok());
  GroupCommitWriter writer(*db);
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = writer.SubmitStatus([&](SqliteConnection&) {
    started.set_value();
    released.wait();
    return OkStatus();
  });
  started.get_future().wait();  // the blocker's transaction is under way: what follows is next
  std::mutex mutex;
  std::vector<std::string> log;
  writer.Submit(std::make_unique<OrderWrite>(1, false, mutex, log));
  auto orphan = writer.SubmitStatus(
      [](SqliteConnection& c) { return c.Exec("INSERT INTO c(pid) VALUES (999)"); });
  writer.Submit(std::make_unique<OrderWrite>(2, false, mutex, log));
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  EXPECT_FALSE(orphan.get().ok()) << "the COMMIT should have failed";
  writer.Stop();  // drains: every write has been finished
  EXPECT_EQ(log,
            (std::vector<std::string>{"finished 1 with an error", "finished 2 with an error"}));
  EXPECT_EQ(CountEvents(*db), 0);
}

// A write submitted after Stop is never run: finished with an error, never Committed.
TEST(GroupCommitTest, AWriteAfterStopIsFinishedWithAnErrorAndNeverCommitted) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  writer.Stop();
  std::mutex mutex;
  std::vector<std::string> log;
  writer.Submit(std::make_unique<OrderWrite>(1, false, mutex, log));
  EXPECT_EQ(log, std::vector<std::string>{"finished 1 with an error"});
}

TEST(GroupCommitTest, APendingWriteAfterStopIsFinishedWithAClosedError) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  writer.Stop();
  std::promise<std::pair<Status, int64_t>> finished;
  writer.Submit(std::make_unique<RecordingWrite>(*db, "late", false, finished));
  auto [commit, visible] = finished.get_future().get();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().category(), ErrorCategory::kResource);
  EXPECT_EQ(visible, 0);
}

TEST(GroupCommitTest, MaintenanceRunsOnTheWriterThread) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  std::atomic<int> runs{0};
  writer.AddMaintenance(std::chrono::milliseconds(5), [&](SqliteConnection&) {
    ++runs;
    return OkStatus();
  });
  for (int i = 0; i < 500 && runs < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(runs.load(), 2);
}

TEST(GroupCommitTest, FailedMaintenanceIsCounted) {
  TempDir dir;
  auto db = *Database::Open(dir.path());
  GroupCommitWriter writer(*db);
  writer.AddMaintenance(std::chrono::milliseconds(5),
                        [](SqliteConnection&) { return ResourceError("no space"); });
  for (int i = 0; i < 500 && writer.stats().failed_maintenance == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(writer.stats().failed_maintenance, 1);
  EXPECT_EQ(writer.stats().last_maintenance_error, "resource: no space");
}

}  // namespace
}  // namespace rebound::store
