#include "jobs/job_store.h"

#include <gtest/gtest.h>

#include <future>
#include <map>
#include <random>

#include "base/atomic_file.h"
#include "base/manual_clock.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::jobs {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::OpenInMemory(clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobStore>(store_->database(), store_->writer(), &store_->journal(),
                                       clock_);
  }

  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobStore> jobs_;
};

TEST_F(JobStoreTest, SubmitAssignsIdsAndStoresQueued) {
  auto first = jobs_->Submit({.command = {"a"}});
  auto second = jobs_->Submit({.command = {"b"}, .queue = "mail"});
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->created);
  EXPECT_GT(second->job.id, first->job.id);
  auto read = jobs_->Get(second->job.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->state, JobState::kQueued);
  EXPECT_EQ(read->spec.queue, "mail");
  EXPECT_EQ(read->spec.command, std::vector<std::string>{"b"});
}

TEST_F(JobStoreTest, AStateChangeAndItsEventCommitTogetherOrNotAtAll) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  JobRecord job = submitted->job;
  job.state = JobState::kRunning;
  ASSERT_TRUE(jobs_->Save(job).get().ok());
  auto events = store_->journal().Query({.category = "job", .kind = "running"});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].subject, ShimName(job.id));

  // An event that cannot be written takes the state change down with it.
  ASSERT_TRUE(store_->writer()
                  .SubmitStatus([](store::SqliteConnection& db) {
                    return db.Exec(
                        "CREATE TRIGGER no_events BEFORE INSERT ON events "
                        "BEGIN SELECT RAISE(ABORT, 'journal unavailable'); END");
                  })
                  .get()
                  .ok());
  job.state = JobState::kSucceeded;
  EXPECT_FALSE(jobs_->Save(job).get().ok());
  EXPECT_EQ(jobs_->Get(job.id)->state, JobState::kRunning);
}

TEST_F(JobStoreTest, SameKeyReturnsTheExistingJob) {
  auto first = jobs_->Submit({.command = {"a"}, .key = "k"});
  auto again = jobs_->Submit({.command = {"different"}, .key = "k"});
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first->job.id);
  EXPECT_EQ(again->job.spec.command, std::vector<std::string>{"a"});
  auto all = jobs_->List({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(JobStoreTest, SaveUpdatesAndJournalsTheTransition) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  JobRecord job = submitted->job;
  job.state = JobState::kRetrying;
  job.attempt = 2;
  job.last_exit = JobExit{.code = 75, .description = "exited with code 75"};
  job.error_category = "resource";
  job.not_before_ms = 1234;
  ASSERT_TRUE(jobs_->Save(job).get().ok());
  auto read = jobs_->Get(job.id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->state, JobState::kRetrying);
  EXPECT_EQ(read->attempt, 2);
  EXPECT_EQ(read->last_exit->code, 75);
  EXPECT_EQ(read->error_category, "resource");
  EXPECT_EQ(read->not_before_ms, 1234);
  store_->writer().Stop();
  auto events = store_->journal().Query({.category = "job", .subject = ShimName(job.id)});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, "submitted");
  EXPECT_EQ((*events)[1].kind, "retrying");
}

// The event's data is built as text (not through a JSON tree): the same object, escapes and
// all, and it reads back as JSON.
TEST_F(JobStoreTest, EventDataHoldsAttemptExitMessageAndQueueAsJson) {
  auto submitted = jobs_->Submit({.command = {"a"}, .queue = "q\"1"});
  ASSERT_TRUE(submitted.ok());
  JobRecord job = submitted->job;
  job.state = JobState::kFailed;
  job.attempt = 3;
  job.message = "exit \"1\"\n\xff tab\t";  // quotes, a newline, invalid UTF-8, a tab
  job.last_exit = JobExit{.code = 1, .description = "exited with code 1"};
  ASSERT_TRUE(jobs_->Save(job, JobState::kQueued).get().ok());
  auto events = store_->journal().Query({.category = "job", .subject = ShimName(job.id)});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].data,
            (nlohmann::json{{"attempt", 0}, {"message", ""}, {"queue", "q\"1"}}));
  EXPECT_EQ((*events)[1].data, (nlohmann::json{{"attempt", 3},
                                               {"exit", JobExitToJson(*job.last_exit)},
                                               {"message", "exit \"1\"\n\xef\xbf\xbd tab\t"},
                                               {"queue", "q\"1"}}));
}

TEST_F(JobStoreTest, SavingAnUnknownJobIsNotFound) {
  auto saved = jobs_->Save(JobRecord{.id = 99, .spec = {.command = {"a"}}}).get();
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(jobs_->Get(99).error().category(), ErrorCategory::kNotFound);
}

TEST_F(JobStoreTest, ListFiltersAndLoadUnfinishedSkipsEndedJobs) {
  for (const char* queue : {"a", "a", "b"}) {
    ASSERT_TRUE(jobs_->Submit({.command = {"x"}, .queue = queue}).ok());
  }
  JobRecord done = *jobs_->Get(1);
  done.state = JobState::kSucceeded;
  ASSERT_TRUE(jobs_->Save(done).get().ok());
  EXPECT_EQ(jobs_->List({.state = JobState::kQueued})->size(), 2u);
  EXPECT_EQ(jobs_->List({.queue = "a"})->size(), 2u);
  EXPECT_EQ(jobs_->List({.after_id = 1, .limit = 1})->front().id, 2);
  auto unfinished = jobs_->LoadUnfinished();
  ASSERT_TRUE(unfinished.ok());
  ASSERT_EQ(unfinished->jobs.size(), 2u);
  EXPECT_EQ(unfinished->jobs.front().id, 2);
  EXPECT_EQ(unfinished->max_id, 3);
}

TEST_F(JobStoreTest, LoadUnfinishedReportsTheNewestIdEvenWhenThatJobEnded) {
  ASSERT_TRUE(jobs_->Submit({.command = {"x"}}).ok());
  JobRecord done = *jobs_->Get(1);
  done.state = JobState::kSucceeded;
  ASSERT_TRUE(jobs_->Save(done).get().ok());
  auto unfinished = jobs_->LoadUnfinished();
  ASSERT_TRUE(unfinished.ok());
  EXPECT_TRUE(unfinished->jobs.empty());
  EXPECT_EQ(unfinished->max_id, 1);
}

TEST_F(JobStoreTest, RetentionDeletesOnlyEndedJobsOlderThanTheCutoffWithTheirLogs) {
  testing::TempDir dir;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(jobs_->Submit({.command = {"x"}}).ok());
  }
  for (int64_t id : {1, 2}) {
    JobRecord job = *jobs_->Get(id);
    job.state = id == 1 ? JobState::kSucceeded : JobState::kRunning;
    ASSERT_TRUE(jobs_->Save(job).get().ok());
  }
  for (const char* log : {"job:1.log", "job:1.log.1", "job:2.log"}) {
    ASSERT_TRUE(WriteFileAtomically(DefaultFileSystem(), dir.Path(log), "output").ok());
  }
  const int64_t now_ms = ToUnixMillis(clock_.WallNow());
  auto too_early = jobs_->DeleteEndedBefore(now_ms, 10, DefaultFileSystem(), dir.path(), 5).get();
  ASSERT_TRUE(too_early.ok());
  EXPECT_EQ(*too_early, 0);  // ended at now_ms, not before it
  auto deleted = jobs_->DeleteEndedBefore(now_ms + 1, 10, DefaultFileSystem(), dir.path(), 5).get();
  ASSERT_TRUE(deleted.ok()) << deleted.error().message();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(jobs_->Get(1).error().category(), ErrorCategory::kNotFound);
  EXPECT_TRUE(jobs_->Get(2).ok());  // running
  EXPECT_TRUE(jobs_->Get(3).ok());  // queued
  EXPECT_FALSE(DefaultFileSystem().Exists(dir.Path("job:1.log")));
  EXPECT_FALSE(DefaultFileSystem().Exists(dir.Path("job:1.log.1")));
  EXPECT_TRUE(DefaultFileSystem().Exists(dir.Path("job:2.log")));
}

TEST_F(JobStoreTest, SummaryCountsByStateAndQueue) {
  ASSERT_TRUE(jobs_->Submit({.command = {"x"}, .queue = "a"}).ok());
  ASSERT_TRUE(jobs_->Submit({.command = {"x"}, .queue = "b"}).ok());
  auto summary = jobs_->Summary();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->by_state.at("queued"), 2);
  EXPECT_EQ(summary->by_state.at("succeeded"), 0);
  EXPECT_EQ(summary->by_queue.at("a").at("queued"), 1);
}

TEST_F(JobStoreTest, CountsMatchACountOfTheTableAfterRandomTransitions) {
  rebound::testing::TempDir logs;
  std::mt19937 random(42);
  const std::vector<std::string> queues = {"a", "b", "c"};
  std::vector<JobRecord> jobs;
  for (int i = 0; i < 60; ++i) {
    JobSpec spec{.command = {"x"}, .queue = queues[random() % queues.size()]};
    if (i % 7 == 0) {
      spec.key = "key-" + std::to_string(i % 21);  // some repeat: nothing new is stored
    }
    auto submitted = jobs_->Submit(spec);
    ASSERT_TRUE(submitted.ok());
    if (submitted->created) {
      jobs.push_back(submitted->job);
    }
  }
  for (int round = 0; round < 20; ++round) {
    // Saves issued together share transactions, as the manager's do.
    std::vector<std::future<Status>> saves;
    for (int i = 0; i < 40; ++i) {
      JobRecord& job = jobs[random() % jobs.size()];
      job.state = static_cast<JobState>(random() % kJobStateCount);
      saves.push_back(jobs_->Save(job));
    }
    JobRecord missing = jobs.front();
    missing.id = 1000000;  // fails alone: the counts must not move for it
    saves.push_back(jobs_->Save(missing));
    for (size_t i = 0; i < saves.size(); ++i) {
      EXPECT_EQ(saves[i].get().ok(), i + 1 < saves.size());
    }
    if (round % 5 == 4) {
      clock_.AdvanceBy(std::chrono::seconds(1));
      auto deleted = jobs_->DeleteEndedBefore(ToUnixMillis(clock_.WallNow()), 5,
                                              DefaultFileSystem(), logs.path(), 0);
      ASSERT_TRUE(deleted.get().ok());
      std::erase_if(jobs, [&](const JobRecord& job) { return !jobs_->Get(job.id).ok(); });
    }
    auto counted = CountJobs(store_->database());
    auto kept = jobs_->Summary();
    ASSERT_TRUE(counted.ok() && kept.ok());
    EXPECT_EQ(kept->by_state, counted->by_state) << "round " << round;
    EXPECT_EQ(kept->by_queue, counted->by_queue) << "round " << round;
  }
  // A store opened now counts the table once and agrees.
  JobStore reopened(store_->database(), store_->writer(), nullptr, clock_);
  EXPECT_EQ(reopened.Summary()->by_queue, jobs_->Summary()->by_queue);
}

// The caller's guess of the stored state (Save's second argument) only spares a read: right,
// wrong, absent, or with the job's queue changed in memory, the counts follow the rows.
TEST_F(JobStoreTest, CountsFollowTheRowsWhateverStoredStateTheCallerGuesses) {
  std::mt19937 random(7);
  const std::vector<std::string> queues = {"a", "b"};
  std::vector<JobRecord> jobs;
  std::map<int64_t, JobState> stored;  // what each row holds, as the test knows it
  for (int i = 0; i < 30; ++i) {
    auto submitted = jobs_->Submit({.command = {"x"}, .queue = queues[i % 2]});
    ASSERT_TRUE(submitted.ok());
    jobs.push_back(submitted->job);
    stored[submitted->job.id] = JobState::kQueued;
  }
  for (int round = 0; round < 20; ++round) {
    std::vector<std::future<Status>> saves;
    for (int i = 0; i < 30; ++i) {
      JobRecord job = jobs[random() % jobs.size()];
      std::optional<JobState> guess;
      switch (random() % 4) {
        case 0:
          guess = stored[job.id];
          break;  // right
        case 1:
          guess = static_cast<JobState>(random() % kJobStateCount);
          break;  // any
        case 2:
          break;  // none
        default:  // right state, but the queue in memory is not the row's
          guess = stored[job.id];
          job.spec.queue = job.spec.queue == "a" ? "b" : "a";
      }
      job.state = static_cast<JobState>(random() % kJobStateCount);
      stored[job.id] = job.state;
      saves.push_back(jobs_->Save(job, guess));
    }
    JobRecord missing = jobs.front();
    missing.id = 1000000;
    auto refused = jobs_->Save(missing, JobState::kQueued);
    for (auto& save : saves) {
      EXPECT_TRUE(save.get().ok());
    }
    EXPECT_EQ(refused.get().error().category(), ErrorCategory::kNotFound);
    auto counted = CountJobs(store_->database());
    auto kept = jobs_->Summary();
    ASSERT_TRUE(counted.ok() && kept.ok());
    EXPECT_EQ(kept->by_state, counted->by_state) << "round " << round;
    EXPECT_EQ(kept->by_queue, counted->by_queue) << "round " << round;
  }
  for (const JobRecord& job : jobs) {
    EXPECT_EQ(jobs_->Get(job.id)->state, stored[job.id]) << "job " << job.id;
    EXPECT_EQ(jobs_->Get(job.id)->spec.queue, job.spec.queue) << "the row's queue stays";
  }
}

TEST_F(JobStoreTest, ASubmitAndItsEventCommitTogetherOrNotAtAll) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  auto events = store_->journal().Query({.category = "job", .kind = "submitted"});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].subject, ShimName(submitted->job.id));
  ASSERT_TRUE(store_->writer()
                  .SubmitStatus([](store::SqliteConnection& db) {
                    return db.Exec(
                        "CREATE TRIGGER no_events BEFORE INSERT ON events "
                        "BEGIN SELECT RAISE(ABORT, 'journal unavailable'); END");
                  })
                  .get()
                  .ok());
  EXPECT_FALSE(jobs_->Submit({.command = {"b"}}).ok());
  auto all = jobs_->List({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);  // the second job's row went with its event
  EXPECT_EQ(jobs_->Summary()->by_state.at("queued"), 1);
}

TEST_F(JobStoreTest, AWriteThatFailsLeavesTheCountsAsTheyWere) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  ASSERT_TRUE(store_->writer()
                  .SubmitStatus([](store::SqliteConnection& db) {
                    return db.Exec(
                        "CREATE TRIGGER no_events BEFORE INSERT ON events "
                        "BEGIN SELECT RAISE(ABORT, 'journal unavailable'); END");
                  })
                  .get()
                  .ok());
  JobRecord job = submitted->job;
  job.state = JobState::kRunning;
  EXPECT_FALSE(jobs_->Save(job).get().ok());  // the row's update is undone with the event
  auto summary = jobs_->Summary();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->by_state.at("queued"), 1);
  EXPECT_EQ(summary->by_state.at("running"), 0);
}

// A COMMIT that fails may have reached the disk all the same, so the store counts the table
// again after one. To see that it did, a row is added behind the counts' back first: only a
// recount can bring it into them.
TEST_F(JobStoreTest, AFailedCommitOfAJobWriteMakesTheStoreCountTheTableAgain) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  store::GroupCommitWriter& writer = store_->writer();
  ASSERT_TRUE(writer
                  .SubmitStatus([](store::SqliteConnection& db) {
                    return db.Exec(
                        "INSERT INTO jobs(queue, state, spec, created_at_ms, updated_at_ms) "
                        "VALUES ('default', 'queued', '{}', 1, 1);"
                        "CREATE TABLE p(id INTEGER PRIMARY KEY);"
                        "CREATE TABLE c(pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY "
                        "DEFERRED)");
                  })
                  .get()
                  .ok());
  ASSERT_EQ(jobs_->Summary()->by_state.at("queued"), 1);  // the counts missed that row
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = writer.SubmitStatus([&](store::SqliteConnection&) {
    started.set_value();
    released.wait();
    return OkStatus();
  });
  started.get_future().wait();  // what follows is one transaction, after the blocker's
  JobRecord job = submitted->job;
  job.state = JobState::kRunning;
  auto saved = jobs_->Save(job);
  auto orphan = writer.SubmitStatus(
      [](store::SqliteConnection& db) { return db.Exec("INSERT INTO c(pid) VALUES (999)"); });
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  EXPECT_FALSE(saved.get().ok());  // its COMMIT failed
  EXPECT_FALSE(orphan.get().ok());
  ASSERT_TRUE(writer.SubmitStatus([](store::SqliteConnection&) { return OkStatus(); }).get().ok());
  auto summary = jobs_->Summary();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->by_state.at("queued"), 2);
  EXPECT_EQ(summary->by_state.at("running"), 0);
}

// When a write makes SQLite abort the whole transaction (a full disk, an I/O error; here the
// write ends it itself), the writer fails that write alone and runs the batch's other writes
// again: a job write run twice must count once.
TEST_F(JobStoreTest, AJobWriteRunAgainAfterItsTransactionWasAbortedCountsOnce) {
  auto submitted = jobs_->Submit({.command = {"a"}});
  ASSERT_TRUE(submitted.ok());
  store::GroupCommitWriter& writer = store_->writer();
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = writer.SubmitStatus([&](store::SqliteConnection&) {
    started.set_value();
    released.wait();
    return OkStatus();
  });
  started.get_future().wait();  // what follows is one transaction, after the blocker's
  JobRecord job = submitted->job;
  job.state = JobState::kRunning;
  auto saved = jobs_->Save(job);
  int neighbour_runs = 0;
  auto neighbour = writer.SubmitStatus([&](store::SqliteConnection&) {
    ++neighbour_runs;
    return OkStatus();
  });
  auto aborting = writer.SubmitStatus([](store::SqliteConnection& db) -> Status {
    REBOUND_RETURN_IF_ERROR(db.Exec("ROLLBACK"));  // as SQLite does on SQLITE_FULL
    return ResourceError("disk full");
  });
  release.set_value();
  ASSERT_TRUE(blocker.get().ok());
  EXPECT_FALSE(aborting.get().ok());
  ASSERT_TRUE(saved.get().ok());
  ASSERT_TRUE(neighbour.get().ok());
  EXPECT_EQ(neighbour_runs, 2);  // the batch ran again without the aborting write
  auto summary = jobs_->Summary();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->by_state.at("queued"), 0);
  EXPECT_EQ(summary->by_state.at("running"), 1);
}

}  // namespace
}  // namespace rebound::jobs
