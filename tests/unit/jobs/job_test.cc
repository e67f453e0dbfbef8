#include "jobs/job.h"

#include <gtest/gtest.h>

namespace rebound::jobs {
namespace {

using S = JobState;
using E = JobEvent;

TEST(JobStateTest, RunningEndsInEveryOutcome) {
  EXPECT_EQ(*NextJobState(S::kQueued, E::kStarted), S::kRunning);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kSucceeded), S::kSucceeded);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kFailedRetryable), S::kRetrying);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kFailedPermanently), S::kFailed);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kGaveUp), S::kExhausted);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kCancelled), S::kCancelled);
  EXPECT_EQ(*NextJobState(S::kRunning, E::kInterrupted), S::kInterrupted);
  EXPECT_EQ(*NextJobState(S::kRetrying, E::kBackoffOver), S::kQueued);
}

TEST(JobStateTest, SucceededIsFinalForEveryEvent) {
  for (int event = 0; event <= static_cast<int>(E::kManualRetry); ++event) {
    auto next = NextJobState(S::kSucceeded, static_cast<E>(event));
    ASSERT_FALSE(next.ok()) << event;
    EXPECT_EQ(next.error().category(), ErrorCategory::kConflict);
  }
}

TEST(JobStateTest, OnlyEndedUnsuccessfulJobsCanBeRetriedByHand) {
  for (S state : {S::kFailed, S::kExhausted, S::kCancelled, S::kInterrupted}) {
    EXPECT_EQ(*NextJobState(state, E::kManualRetry), S::kQueued) << JobStateName(state);
  }
  for (S state : {S::kQueued, S::kRunning, S::kRetrying, S::kSucceeded}) {
    EXPECT_FALSE(NextJobState(state, E::kManualRetry).ok()) << JobStateName(state);
  }
}

TEST(JobStateTest, QueuedJobCannotSucceedWithoutRunning) {
  auto next = NextJobState(S::kQueued, E::kSucceeded);
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message().find("queued"), std::string::npos);
}

TEST(JobStateTest, NamesRoundTripAndUnknownNamesListTheValidOnes) {
  for (int i = 0; i < kJobStateCount; ++i) {
    const auto state = static_cast<S>(i);
    EXPECT_EQ(*ParseJobState(JobStateName(state)), state);
  }
  auto bad = ParseJobState("done");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("succeeded"), std::string::npos);
}

TEST(JobStateTest, TerminalStatesAreThoseNothingHappensTo) {
  EXPECT_FALSE(IsTerminal(S::kQueued));
  EXPECT_FALSE(IsTerminal(S::kRunning));
  EXPECT_FALSE(IsTerminal(S::kRetrying));
  EXPECT_TRUE(IsTerminal(S::kSucceeded));
  EXPECT_TRUE(IsTerminal(S::kInterrupted));
}

TEST(JobSpecTest, JsonRoundTripKeepsEveryField) {
  JobSpec spec{.command = {"./import", "--day", "1"},
               .queue = "imports",
               .key = "k1",
               .priority = 5,
               .retry = {.max_attempts = 7,
                         .retry_exit_codes = {3},
                         .fatal_exit_codes = {75, 76},
                         .backoff = {.strategy = resilience::BackoffStrategy::kLinear,
                                     .initial = std::chrono::milliseconds(250),
                                     .increment = std::chrono::seconds(1),
                                     .max = std::chrono::seconds(9),
                                     .jitter = resilience::Jitter::kNone}},
               .timeout = std::chrono::minutes(10),
               .stop_timeout = std::chrono::seconds(3),
               .idempotent = false,
               .cwd = "/tmp",
               .env = {{"MODE", "batch"}}};
  auto back = JobSpecFromJson(JobSpecToJson(spec));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->command, spec.command);
  EXPECT_EQ(back->queue, "imports");
  EXPECT_EQ(back->key, "k1");
  EXPECT_EQ(back->priority, 5);
  EXPECT_EQ(back->retry.max_attempts, 7);
  EXPECT_EQ(back->retry.retry_exit_codes, std::vector<int>{3});
  EXPECT_EQ(back->retry.fatal_exit_codes, (std::vector<int>{75, 76}));
  EXPECT_EQ(back->retry.backoff.strategy, resilience::BackoffStrategy::kLinear);
  EXPECT_EQ(back->retry.backoff.initial, std::chrono::milliseconds(250));
  EXPECT_EQ(back->retry.backoff.max, std::chrono::seconds(9));
  EXPECT_EQ(back->timeout, std::chrono::minutes(10));
  EXPECT_EQ(back->stop_timeout, std::chrono::seconds(3));
  EXPECT_FALSE(back->idempotent);
  EXPECT_EQ(back->cwd, "/tmp");
  EXPECT_EQ(back->env.at("MODE"), "batch");
}

TEST(JobSpecTest, DamagedStoredSpecIsCorruption) {
  auto spec = JobSpecFromJson(nlohmann::json{{"queue", "x"}});
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().category(), ErrorCategory::kCorruption);
}

TEST(JobTest, ShimNamesCannotCollideWithServiceNames) {
  EXPECT_EQ(ShimName(42), "job:42");  // ':' is not allowed in a service name
}

TEST(JobTest, ApiFormShowsRetryTimeOnlyWhileRetrying) {
  JobRecord job{.id = 3, .spec = {.command = {"true"}}, .state = S::kRetrying, .not_before_ms = 9};
  EXPECT_EQ(JobToJson(job)["retry_at_ms"], 9);
  job.state = S::kQueued;
  EXPECT_FALSE(JobToJson(job).contains("retry_at_ms"));
  EXPECT_EQ(JobToJson(job)["state"], "queued");
}

}  // namespace
}  // namespace rebound::jobs
