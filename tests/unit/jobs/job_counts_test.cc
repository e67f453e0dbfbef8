#include "jobs/job_counts.h"

#include <gtest/gtest.h>

namespace rebound::jobs {
namespace {

TEST(JobCountsTest, HasNoSummaryUntilCountedOnce) {
  JobCounts counts;
  JobCountDelta delta;
  delta.Add("mail", JobState::kQueued, +1);
  counts.Apply(delta);  // before the count of the table: that count includes it
  EXPECT_FALSE(counts.Summary().has_value());
  counts.Reset({.by_queue = {{"mail", {{"queued", 4}}}}});
  auto summary = counts.Summary();
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->by_state.at("queued"), 4);
}

TEST(JobCountsTest, AppliesMovesAndListsOnlyPairsThatHaveJobs) {
  JobCounts counts;
  counts.Reset({.by_queue = {{"mail", {{"queued", 2}}}, {"reports", {{"succeeded", 1}}}}});
  JobCountDelta delta;
  delta.Move("mail", JobState::kQueued, JobState::kRunning);
  delta.Move("mail", JobState::kRunning, JobState::kRunning);  // no change
  delta.Add("reports", JobState::kSucceeded, -1);              // deleted by retention
  counts.Apply(delta);
  auto summary = counts.Summary();
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(summary->by_state.size(), static_cast<size_t>(kJobStateCount));
  EXPECT_EQ(summary->by_state.at("queued"), 1);
  EXPECT_EQ(summary->by_state.at("running"), 1);
  EXPECT_EQ(summary->by_state.at("succeeded"), 0);
  const std::map<std::string, std::map<std::string, int64_t>> by_queue = {
      {"mail", {{"queued", 1}, {"running", 1}}}};
  EXPECT_EQ(summary->by_queue, by_queue);
}

}  // namespace
}  // namespace rebound::jobs
