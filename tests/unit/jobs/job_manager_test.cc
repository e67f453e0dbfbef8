// The JobManager against the real store (in memory), a FakeLauncher and a ManualScheduler:
// retries, timeouts, cancel, queue order and limits, and what a restarted daemon does with
// the jobs an earlier one left.

#include "jobs/job_manager.h"

#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <mutex>

#include "base/manual_clock.h"
#include "store/store.h"
#include "testing/fake_launcher.h"
#include "testing/manual_scheduler.h"

namespace rebound::jobs {
namespace {

using namespace std::chrono_literals;
using supervise::AdoptOutcome;

JobRetry FixedRetry(int max_attempts, Duration delay = 1s) {
  return {.max_attempts = max_attempts,
          .backoff = {.strategy = resilience::BackoffStrategy::kFixed,
                      .initial = delay,
                      .max = delay,
                      .jitter = resilience::Jitter::kNone}};
}

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::OpenInMemory(clock_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobStore>(store_->database(), store_->writer(), nullptr, clock_);
    waiter_ = std::make_unique<CommitWaiter>([this](std::function<void()> work) {
      std::lock_guard lock(mutex_);
      posted_.push_back(std::move(work));
    });
  }
  void TearDown() override {
    waiter_.reset();
    manager_.reset();
  }

  JobManager& Manager(std::vector<QueueSpec> queues = {}) {
    manager_ = std::make_unique<JobManager>(JobManagerOptions{.queues = std::move(queues)}, *jobs_,
                                            *waiter_, launcher_, scheduler_, clock_, random_);
    return *manager_;
  }

  // Runs commit callbacks and due timers until nothing is left to do, as the reactor would.
  void Settle() {
    for (int round = 0; round < 1000; ++round) {
      waiter_->Flush();
      std::vector<std::function<void()>> work;
      {
        std::lock_guard lock(mutex_);
        work.swap(posted_);
      }
      const size_t timers = scheduler_.pending();
      scheduler_.RunDue();
      for (auto& task : work) {
        task();
      }
      if (work.empty() && timers == scheduler_.pending()) {
        waiter_->Flush();
        std::lock_guard lock(mutex_);
        if (posted_.empty()) {
          return;
        }
      }
    }
    FAIL() << "never settled";
  }

  void Advance(Duration duration) {
    scheduler_.AdvanceBy(duration);
    Settle();
  }

  int64_t Submit(JobSpec spec) {
    auto outcome = jobs_->Submit(spec);
    EXPECT_TRUE(outcome.ok());
    manager_->OnSubmitted(outcome->job);
    Settle();
    return outcome->job.id;
  }

  // A job as an earlier daemon left it in the store.
  int64_t Stored(JobSpec spec, JobState state, int attempt = 1) {
    auto outcome = jobs_->Submit(spec);
    EXPECT_TRUE(outcome.ok());
    JobRecord job = outcome->job;
    job.state = state;
    job.attempt = attempt;
    EXPECT_TRUE(jobs_->Save(job).get().ok());
    return job.id;
  }

  JobRecord Job(int64_t id) { return *jobs_->Get(id); }
  JobState State(int64_t id) { return Job(id).state; }
  int Launches(int64_t id) { return launcher_.launches(ShimName(id)); }
  void Exit(int64_t id, int code) {
    launcher_.Crash(ShimName(id), code);
    Settle();
  }

  ManualClock clock_;
  testing::ManualScheduler scheduler_{clock_};
  testing::FakeLauncher launcher_{scheduler_, clock_};
  Random random_{42};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobStore> jobs_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  std::unique_ptr<CommitWaiter> waiter_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, FailsTwiceWithTempfailThenSucceedsAfterBackoff) {
  Manager();
  const int64_t id = Submit({.command = {"flaky"}, .retry = FixedRetry(5, 1s)});
  EXPECT_EQ(Launches(id), 1);
  EXPECT_EQ(State(id), JobState::kRunning);
  Exit(id, 75);
  EXPECT_EQ(State(id), JobState::kRetrying);
  EXPECT_EQ(Job(id).error_category, "resource");
  Advance(999ms);
  EXPECT_EQ(Launches(id), 1);  // still backing off
  Advance(1ms);
  EXPECT_EQ(Launches(id), 2);
  Exit(id, 75);
  Advance(1s);
  EXPECT_EQ(Launches(id), 3);
  Exit(id, 0);
  EXPECT_EQ(State(id), JobState::kSucceeded);
  EXPECT_EQ(Job(id).attempt, 3);
  EXPECT_FALSE(manager_->IsActive(id));
  EXPECT_EQ(manager_->stats().retried, 2);
}

TEST_F(JobManagerTest, ObserverHearsEachAttemptItsRunTimeAndTheFinalState) {
  Manager();
  std::vector<std::string> heard;
  manager_->SetObserver(
      {.attempt_started = [&](const JobRecord& job) { heard.push_back("start " + job.spec.queue); },
       .attempt_ended =
           [&](const JobRecord& job, Duration ran) {
             heard.push_back(
                 "ran " + std::to_string(job.attempt) + " " +
                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(ran).count()) +
                 "s");
           },
       .ended =
           [&](const JobRecord& job) {
             heard.push_back("ended " + std::string(JobStateName(job.state)));
           }});
  const int64_t id = Submit({.command = {"flaky"}, .retry = FixedRetry(5, 1s)});
  Advance(3s);
  Exit(id, 75);  // retryable: an attempt ended, the job did not
  Advance(1s);
  Advance(2s);
  Exit(id, 0);
  EXPECT_EQ(heard, (std::vector<std::string>{"start default", "ran 1 3s", "start default",
                                             "ran 2 2s", "ended succeeded"}));
}

TEST_F(JobManagerTest, ObserverHearsACancelledQueuedJobEndWithoutAnAttempt) {
  Manager({{.name = "default", .concurrency = 1}});
  std::vector<std::string> heard;
  manager_->SetObserver({.attempt_started = [&](const JobRecord&) { heard.push_back("start"); },
                         .ended =
                             [&](const JobRecord& job) {
                               heard.push_back("ended " + std::string(JobStateName(job.state)));
                             }});
  Submit({.command = {"first"}});
  const int64_t waiting = Submit({.command = {"second"}});
  ASSERT_TRUE(manager_->Cancel(waiting).ok());
  Settle();
  EXPECT_EQ(heard, (std::vector<std::string>{"start", "ended cancelled"}));
}

TEST_F(JobManagerTest, ExitRecordsAreDiscardedOnlyOnceTheOutcomeIsDurable) {
  Manager();
  const int64_t id = Submit({.command = {"x"}});
  std::vector<JobState> stored_at_discard;
  launcher_.OnDiscard([&](const std::string&) { stored_at_discard.push_back(State(id)); });
  Exit(id, 0);
  ASSERT_EQ(stored_at_discard.size(), 1u);
  EXPECT_EQ(stored_at_discard[0], JobState::kSucceeded);  // a crash before this replays the exit
}

// With no backoff, the next attempt starts at once; its start discards the failed attempt's
// exit record (the runner forgets it), which must wait until "retrying" is committed, or a
// daemon killed in between would find neither the record nor the outcome.
TEST_F(JobManagerTest, NextAttemptDiscardsTheLastExitOnlyOnceItsOutcomeIsCommitted) {
  Manager();
  const int64_t id = Submit({.command = {"flaky"}, .retry = FixedRetry(5, 0ms)});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto held = store_->writer().Submit<int>([released](store::SqliteConnection&) -> Result<int> {
    released.wait();  // holds the writer: the outcome below stays uncommitted
    return 0;
  });
  size_t discards_at_exit = launcher_.discards().size();
  launcher_.Crash(ShimName(id), 75);
  for (int round = 0; round < 3; ++round) {
    scheduler_.RunDue();  // the exit, then the zero backoff
  }
  EXPECT_EQ(launcher_.discards().size(), discards_at_exit);
  EXPECT_EQ(Launches(id), 1);
  release.set_value();
  ASSERT_TRUE(held.get().ok());
  Settle();
  EXPECT_EQ(launcher_.discards().size(), discards_at_exit + 1);
  EXPECT_EQ(Launches(id), 2);
  EXPECT_EQ(State(id), JobState::kRunning);
}

// An outcome that could not be stored keeps its exit record for a later daemon.
TEST_F(JobManagerTest, AnOutcomeThatCannotBeStoredHasItsExitRecordKeptNotDiscarded) {
  Manager();
  const int64_t id = Submit({.command = {"x"}});
  ASSERT_TRUE(store_->writer()
                  .SubmitStatus([](store::SqliteConnection& db) {
                    return db.Exec(
                        "CREATE TRIGGER no_success BEFORE UPDATE ON jobs "
                        "WHEN NEW.state = 'succeeded' BEGIN SELECT RAISE(ABORT, 'disk trouble'); "
                        "END");
                  })
                  .get()
                  .ok());
  const size_t discards_before = launcher_.discards().size();
  Exit(id, 0);
  EXPECT_EQ(launcher_.discards().size(), discards_before);
  EXPECT_EQ(State(id), JobState::kRunning);  // what a later daemon finds, with the record
  EXPECT_EQ(manager_->stats().store_errors, 1);
}

TEST_F(JobManagerTest, ExhaustedAfterMaxAttempts) {
  Manager();
  const int64_t id = Submit({.command = {"down"}, .retry = FixedRetry(2, 10ms)});
  Exit(id, 75);
  Advance(10ms);
  Exit(id, 75);
  EXPECT_EQ(State(id), JobState::kExhausted);
  EXPECT_EQ(Launches(id), 2);
  Advance(1min);
  EXPECT_EQ(Launches(id), 2);
}

TEST_F(JobManagerTest, UsageErrorFailsWithoutRetry) {
  Manager();
  const int64_t id = Submit({.command = {"bad-args"}, .retry = FixedRetry(5, 10ms)});
  Exit(id, 64);
  EXPECT_EQ(State(id), JobState::kFailed);
  EXPECT_EQ(Job(id).error_category, "validation");
  Advance(1s);
  EXPECT_EQ(Launches(id), 1);
}

TEST_F(JobManagerTest, TimeoutSendsTermThenKillAndIsClassifiedAsTimeout) {
  Manager();
  const int64_t id =
      Submit({.command = {"hang"}, .retry = FixedRetry(1), .timeout = 5s, .stop_timeout = 2s});
  launcher_.IgnoreStopSignals(ShimName(id));
  Advance(4999ms);
  EXPECT_TRUE(launcher_.signals().empty());
  Advance(1ms);
  ASSERT_EQ(launcher_.signals().size(), 1u);
  EXPECT_EQ(launcher_.signals()[0].second, SIGTERM);
  Advance(2s);
  ASSERT_EQ(launcher_.signals().size(), 2u);
  EXPECT_EQ(launcher_.signals()[1].second, SIGKILL);
  EXPECT_EQ(State(id), JobState::kExhausted);
  EXPECT_EQ(Job(id).error_category, "timeout");
  EXPECT_TRUE(Job(id).last_exit->timed_out);
}

TEST_F(JobManagerTest, CancelStopsARunningJobGracefully) {
  Manager();
  const int64_t id = Submit({.command = {"long"}, .retry = FixedRetry(3)});
  auto cancelled = manager_->Cancel(id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->cancel_requested);
  Settle();
  ASSERT_EQ(launcher_.signals().size(), 1u);
  EXPECT_EQ(launcher_.signals()[0].second, SIGTERM);
  EXPECT_EQ(State(id), JobState::kCancelled);
  Advance(1min);
  EXPECT_EQ(Launches(id), 1);
}

TEST_F(JobManagerTest, CancelOfAStubbornJobEscalatesToKill) {
  Manager();
  const int64_t id = Submit({.command = {"stubborn"}, .stop_timeout = 3s});
  launcher_.IgnoreStopSignals(ShimName(id));
  ASSERT_TRUE(manager_->Cancel(id).ok());
  Advance(3s);
  ASSERT_EQ(launcher_.signals().size(), 2u);
  EXPECT_EQ(launcher_.signals()[1].second, SIGKILL);
  EXPECT_EQ(State(id), JobState::kCancelled);
}

TEST_F(JobManagerTest, CancelOfAQueuedJobMeansItNeverRuns) {
  Manager({{.name = "default", .concurrency = 1}});
  const int64_t first = Submit({.command = {"a"}});
  const int64_t second = Submit({.command = {"b"}});
  ASSERT_TRUE(manager_->Cancel(second).ok());
  Settle();
  EXPECT_EQ(State(second), JobState::kCancelled);
  Exit(first, 0);
  EXPECT_EQ(Launches(second), 0);
  auto again = manager_->Cancel(second);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().category(), ErrorCategory::kConflict);
}

TEST_F(JobManagerTest, CancelWhileItsStartIsBeingStoredMeansItNeverLaunches) {
  Manager();
  auto outcome = jobs_->Submit({.command = {"x"}});
  manager_->OnSubmitted(outcome->job);  // "running" is on its way to disk
  ASSERT_TRUE(manager_->Cancel(outcome->job.id).ok());
  Settle();
  EXPECT_EQ(Launches(outcome->job.id), 0);
  EXPECT_EQ(State(outcome->job.id), JobState::kCancelled);
}

TEST_F(JobManagerTest, QueueRateSpacesStartsThroughTheScheduler) {
  Manager({{.name = "default", .concurrency = 10, .rate_per_second = 4}});
  const int64_t a = Submit({.command = {"x"}});
  const int64_t b = Submit({.command = {"x"}});
  EXPECT_EQ(Launches(a), 1);
  EXPECT_EQ(Launches(b), 0);
  Advance(249ms);
  EXPECT_EQ(Launches(b), 0);
  Advance(1ms);
  EXPECT_EQ(Launches(b), 1);
}

TEST_F(JobManagerTest, ConcurrencyLimitIsHonouredPerQueue) {
  Manager({{.name = "default", .concurrency = 2}, {.name = "solo", .concurrency = 1}});
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Submit({.command = {"w"}}));
  }
  const int64_t solo_a = Submit({.command = {"s"}, .queue = "solo"});
  const int64_t solo_b = Submit({.command = {"s"}, .queue = "solo"});
  EXPECT_EQ(launcher_.launch_order().size(), 3u);  // 2 default + 1 solo
  EXPECT_EQ(Launches(solo_b), 0);
  Exit(ids[0], 0);
  EXPECT_EQ(Launches(ids[2]), 1);
  EXPECT_EQ(Launches(ids[3]), 0);
  Exit(solo_a, 0);
  EXPECT_EQ(Launches(solo_b), 1);
}

TEST_F(JobManagerTest, HigherPriorityRunsFirstThenFifo) {
  Manager({{.name = "default", .concurrency = 1}});
  const int64_t blocker = Submit({.command = {"x"}});
  const int64_t low_a = Submit({.command = {"x"}, .priority = 0});
  const int64_t high = Submit({.command = {"x"}, .priority = 10});
  const int64_t low_b = Submit({.command = {"x"}, .priority = 0});
  for (int64_t id : {blocker, high, low_a}) {
    Exit(id, 0);
  }
  const std::vector<std::string> expected = {ShimName(blocker), ShimName(high), ShimName(low_a),
                                             ShimName(low_b)};
  EXPECT_EQ(launcher_.launch_order(), expected);
}

TEST_F(JobManagerTest, RunningIsStoredBeforeTheLaunch) {
  Manager();
  auto outcome = jobs_->Submit({.command = {"x"}});
  manager_->OnSubmitted(outcome->job);
  EXPECT_EQ(Launches(outcome->job.id), 0);  // waits for the commit of "running"
  Settle();
  EXPECT_EQ(Launches(outcome->job.id), 1);
  EXPECT_EQ(Job(outcome->job.id).attempt, 1);
}

TEST_F(JobManagerTest, RestartReadoptsALiveShimAndDoesNotStartAnother) {
  const int64_t id = Stored({.command = {"long"}}, JobState::kRunning);
  launcher_.SetAdoption(ShimName(id), {.outcome = AdoptOutcome::kRunning,
                                       .process = {.shim_pid = 5, .child_pid = 6}});
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  EXPECT_EQ(Launches(id), 0);
  EXPECT_TRUE(launcher_.IsRunning(ShimName(id)));
  EXPECT_EQ(manager_->stats().adopted, 1);
  Exit(id, 0);
  EXPECT_EQ(State(id), JobState::kSucceeded);
}

TEST_F(JobManagerTest, RestartAppliesTheExitRecordedWhileNoDaemonWatched) {
  const int64_t id = Stored({.command = {"quick"}}, JobState::kRunning);
  launcher_.SetAdoption(ShimName(id), {.outcome = AdoptOutcome::kExitedMeanwhile,
                                       .exit = {.exit_code = 0, .description = "exited"}});
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  EXPECT_EQ(State(id), JobState::kSucceeded);
  EXPECT_EQ(Launches(id), 0);  // its success is recorded: never run again
  EXPECT_FALSE(manager_->Retry(id).ok());
}

TEST_F(JobManagerTest, RestartRetriesAnIdempotentJobWhoseShimVanished) {
  const int64_t id = Stored({.command = {"x"}, .retry = FixedRetry(3, 1s)}, JobState::kRunning);
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  EXPECT_EQ(State(id), JobState::kRetrying);
  Advance(1s);
  EXPECT_EQ(Launches(id), 1);
  EXPECT_EQ(Job(id).attempt, 2);
}

TEST_F(JobManagerTest, RestartInterruptsANonIdempotentJobUntilAPersonRetriesIt) {
  const int64_t id = Stored({.command = {"charge-card"}, .idempotent = false}, JobState::kRunning);
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  EXPECT_EQ(State(id), JobState::kInterrupted);
  EXPECT_EQ(Launches(id), 0);
  auto retried = manager_->Retry(id);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->attempt, 0);
  Settle();
  EXPECT_EQ(Launches(id), 1);
  EXPECT_EQ(State(id), JobState::kRunning);
}

TEST_F(JobManagerTest, RestartQueuesQueuedAndResumesRetryingJobs) {
  const int64_t queued = Stored({.command = {"q"}}, JobState::kQueued, 0);
  const int64_t retrying = Stored({.command = {"r"}}, JobState::kRetrying);
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  EXPECT_EQ(Launches(queued), 1);
  EXPECT_EQ(Launches(retrying), 1);  // its stored retry time has passed
  EXPECT_EQ(Job(retrying).attempt, 2);
}

TEST_F(JobManagerTest, LateSubmitNoticeOfAJobRecoveredAndFinishedDoesNotRunItAgain) {
  // Submitted while the daemon started: Recover() reads it, it runs and succeeds, and only
  // then does the API thread's notice arrive.
  auto outcome = jobs_->Submit({.command = {"x"}});
  ASSERT_TRUE(Manager().Recover().ok());
  Settle();
  Exit(outcome->job.id, 0);
  ASSERT_EQ(State(outcome->job.id), JobState::kSucceeded);
  manager_->OnSubmitted(outcome->job);
  Settle();
  EXPECT_EQ(Launches(outcome->job.id), 1);
}

TEST_F(JobManagerTest, RestartKeepsTheConcurrencyLimitWithReadoptedJobs) {
  const int64_t ended = Stored({.command = {"a"}}, JobState::kRunning);  // exited meanwhile
  const int64_t queued = Stored({.command = {"b"}}, JobState::kQueued, 0);
  const int64_t live = Stored({.command = {"c"}}, JobState::kRunning);
  launcher_.SetAdoption(ShimName(ended),
                        {.outcome = AdoptOutcome::kExitedMeanwhile, .exit = {.exit_code = 0}});
  launcher_.SetAdoption(ShimName(live), {.outcome = AdoptOutcome::kRunning});
  ASSERT_TRUE(Manager({{.name = "default", .concurrency = 1}}).Recover().ok());
  Settle();
  EXPECT_EQ(Launches(queued), 0);  // the live one holds the only slot
  Exit(live, 0);
  EXPECT_EQ(Launches(queued), 1);
}

TEST_F(JobManagerTest, SucceededJobCannotBeRetried) {
  Manager();
  const int64_t id = Submit({.command = {"x"}});
  Exit(id, 0);
  auto retried = manager_->Retry(id);
  ASSERT_FALSE(retried.ok());
  EXPECT_EQ(retried.error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(manager_->Retry(999).error().category(), ErrorCategory::kNotFound);
}

TEST_F(JobManagerTest, StoppedManagerStartsNothingNew) {
  Manager({{.name = "default", .concurrency = 1}});
  const int64_t running = Submit({.command = {"a"}});
  const int64_t queued = Submit({.command = {"b"}});
  manager_->Stop();
  Exit(running, 0);
  EXPECT_EQ(Launches(queued), 0);
  EXPECT_EQ(State(queued), JobState::kQueued);
}

}  // namespace
}  // namespace rebound::jobs
