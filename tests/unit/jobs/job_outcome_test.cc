#include "jobs/job_outcome.h"

#include <gtest/gtest.h>

#include <csignal>

namespace rebound::jobs {
namespace {

using supervise::ExitInfo;

class JobOutcomeTest : public ::testing::Test {
 protected:
  JobOutcome Decide(const ExitInfo& exit, bool timed_out = false) {
    return DecideOutcome(job_, exit, timed_out, classifier_, random_);
  }
  static ExitInfo Code(int code) { return ExitInfo{.exit_code = code}; }

  JobRecord job_{.id = 1,
                 .spec = {.command = {"x"},
                          .retry = {.max_attempts = 3,
                                    .backoff = {.strategy = resilience::BackoffStrategy::kFixed,
                                                .initial = std::chrono::seconds(2),
                                                .max = std::chrono::seconds(2),
                                                .jitter = resilience::Jitter::kNone}}},
                 .state = JobState::kRunning,
                 .attempt = 1};
  resilience::ErrorClassifier classifier_;
  Random random_{7};
};

TEST_F(JobOutcomeTest, ExitZeroSucceeds) { EXPECT_EQ(Decide(Code(0)).event, JobEvent::kSucceeded); }

TEST_F(JobOutcomeTest, TempfailIsRetriedAfterTheBackoff) {
  const JobOutcome outcome = Decide(Code(75));
  EXPECT_EQ(outcome.event, JobEvent::kFailedRetryable);
  EXPECT_EQ(outcome.retry_delay, std::chrono::seconds(2));
  EXPECT_EQ(outcome.error_category, "resource");
}

TEST_F(JobOutcomeTest, UsageErrorFailsWithoutRetry) {
  const JobOutcome outcome = Decide(Code(64));
  EXPECT_EQ(outcome.event, JobEvent::kFailedPermanently);
  EXPECT_EQ(outcome.error_category, "validation");
  EXPECT_NE(outcome.message.find("not retryable"), std::string::npos);
}

TEST_F(JobOutcomeTest, SigkillAsFromTheOomKillerIsRetried) {
  EXPECT_EQ(Decide(ExitInfo{.signal = SIGKILL}).event, JobEvent::kFailedRetryable);
}

TEST_F(JobOutcomeTest, TimeoutIsClassifiedAsTimeoutEvenWhenTheProcessExitsZero) {
  job_.spec.timeout = std::chrono::seconds(1);
  const JobOutcome outcome = Decide(Code(0), /*timed_out=*/true);
  EXPECT_EQ(outcome.event, JobEvent::kFailedRetryable);
  EXPECT_EQ(outcome.error_category, "timeout");
  EXPECT_NE(outcome.message.find("timed out after 1s"), std::string::npos);
}

TEST_F(JobOutcomeTest, TheJobsOwnExitCodeRulesComeFirst) {
  job_.spec.retry.retry_exit_codes = {3};
  job_.spec.retry.fatal_exit_codes = {75};
  EXPECT_EQ(Decide(Code(3)).event, JobEvent::kFailedRetryable);     // built-in: not retryable
  EXPECT_EQ(Decide(Code(75)).event, JobEvent::kFailedPermanently);  // built-in: retryable
  EXPECT_EQ(Decide(Code(69)).event, JobEvent::kFailedRetryable);    // built-in rule applies
}

TEST_F(JobOutcomeTest, LastAttemptExhausts) {
  job_.attempt = 3;
  EXPECT_EQ(Decide(Code(75)).event, JobEvent::kGaveUp);
}

TEST_F(JobOutcomeTest, CancelRequestedMeansCancelledUnlessItSucceeded) {
  job_.cancel_requested = true;
  EXPECT_EQ(Decide(ExitInfo{.signal = SIGTERM}).event, JobEvent::kCancelled);
  EXPECT_EQ(Decide(Code(0)).event, JobEvent::kSucceeded);
}

TEST_F(JobOutcomeTest, UnknownExitRetriesIdempotentJobsAndInterruptsOthers) {
  EXPECT_EQ(Decide(ExitInfo{.description = "shim gone"}).event, JobEvent::kFailedRetryable);
  job_.spec.idempotent = false;
  const JobOutcome outcome = Decide(ExitInfo{.description = "shim gone"});
  EXPECT_EQ(outcome.event, JobEvent::kInterrupted);
  EXPECT_NE(outcome.message.find("rebound jobs retry 1"), std::string::npos);
}

TEST(RetryDelayTest, ExponentialGrowsPerRetryAndIsCapped) {
  Random random(1);
  const resilience::BackoffConfig config{.strategy = resilience::BackoffStrategy::kExponential,
                                         .initial = std::chrono::milliseconds(100),
                                         .factor = 2.0,
                                         .max = std::chrono::milliseconds(500),
                                         .jitter = resilience::Jitter::kNone};
  EXPECT_EQ(RetryDelay(config, 1, random), std::chrono::milliseconds(100));
  EXPECT_EQ(RetryDelay(config, 2, random), std::chrono::milliseconds(200));
  EXPECT_EQ(RetryDelay(config, 3, random), std::chrono::milliseconds(400));
  EXPECT_EQ(RetryDelay(config, 9, random), std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace rebound::jobs
