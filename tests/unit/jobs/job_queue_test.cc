#include "jobs/job_queue.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::jobs {
namespace {

using namespace std::chrono_literals;

std::vector<int64_t> PopAll(JobQueues& queues, MonoTime now) {
  std::vector<int64_t> ids;
  while (auto next = queues.PopReady(now)) {
    ids.push_back(next->id);
  }
  return ids;
}

TEST(JobQueuesTest, HigherPriorityFirstAndFifoAmongEquals) {
  ManualClock clock;
  JobQueues queues({{.name = "default", .concurrency = 10}});
  queues.Push("default", 0, 1);
  queues.Push("default", 5, 2);
  queues.Push("default", 0, 3);
  queues.Push("default", 5, 4);
  queues.Push("default", -1, 5);
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{2, 4, 1, 3, 5}));
}

TEST(JobQueuesTest, ConcurrencyLimitHoldsJobsUntilASlotFrees) {
  ManualClock clock;
  JobQueues queues({{.name = "default", .concurrency = 2}});
  for (int64_t id = 1; id <= 4; ++id) {
    queues.Push("default", 0, id);
  }
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(queues.Counts()["default"].running, 2);
  EXPECT_EQ(queues.Counts()["default"].ready, 2);
  queues.Finished("default");
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{3}));
}

TEST(JobQueuesTest, QueuesAreIndependent) {
  ManualClock clock;
  JobQueues queues({{.name = "a", .concurrency = 1}, {.name = "b", .concurrency = 1}});
  queues.Push("a", 0, 1);
  queues.Push("a", 0, 2);
  queues.Push("b", 0, 3);
  auto started = PopAll(queues, clock.MonotonicNow());
  std::sort(started.begin(), started.end());
  EXPECT_EQ(started, (std::vector<int64_t>{1, 3}));
}

TEST(JobQueuesTest, DefaultQueueAlwaysExists) {
  JobQueues queues({{.name = "mail", .concurrency = 1}});
  EXPECT_TRUE(queues.Has("default"));
  EXPECT_TRUE(queues.Has("mail"));
  EXPECT_FALSE(queues.Has("other"));
  EXPECT_EQ(queues.Counts()["default"].concurrency, 4);
}

TEST(JobQueuesTest, RateSpacesStarts) {
  ManualClock clock;
  JobQueues queues({{.name = "default", .concurrency = 10, .rate_per_second = 2}});
  for (int64_t id = 1; id <= 3; ++id) {
    queues.Push("default", 0, id);
  }
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{1}));
  ASSERT_TRUE(queues.NextRateSlot());
  EXPECT_EQ(*queues.NextRateSlot(), clock.MonotonicNow() + 500ms);
  clock.AdvanceBy(499ms);
  EXPECT_TRUE(PopAll(queues, clock.MonotonicNow()).empty());
  clock.AdvanceBy(1ms);
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{2}));
}

TEST(JobQueuesTest, RemoveTakesAQueuedJobOut) {
  ManualClock clock;
  JobQueues queues({});
  queues.Push("default", 0, 1);
  queues.Push("default", 0, 2);
  EXPECT_TRUE(queues.Remove("default", 0, 1));
  EXPECT_FALSE(queues.Remove("default", 0, 1));
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{2}));
}

TEST(JobQueuesTest, OccupiedSlotsCountAgainstConcurrency) {
  ManualClock clock;
  JobQueues queues({{.name = "default", .concurrency = 1}});
  queues.Occupy("default");  // a re-adopted job
  queues.Push("default", 0, 1);
  EXPECT_TRUE(PopAll(queues, clock.MonotonicNow()).empty());
  queues.Finished("default");
  EXPECT_EQ(PopAll(queues, clock.MonotonicNow()), (std::vector<int64_t>{1}));
}

}  // namespace
}  // namespace rebound::jobs
