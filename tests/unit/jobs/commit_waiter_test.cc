#include "jobs/commit_waiter.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace rebound::jobs {
namespace {

class CommitWaiterTest : public ::testing::Test {
 protected:
  std::vector<std::function<void()>> TakePosted() {
    std::lock_guard lock(mutex_);
    return std::move(posted_);
  }

  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  CommitWaiter waiter_{[this](std::function<void()> work) {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(work));
  }};
};

TEST_F(CommitWaiterTest, PostsEachCallbackOnceItsCommitResolvedInOrder) {
  std::promise<Status> first;
  std::promise<Status> second;
  std::vector<std::string> seen;
  waiter_.Then(first.get_future(), [&](const Status& s) { seen.push_back(s.ok() ? "1" : "1!"); });
  waiter_.Then(second.get_future(),
               [&](const Status& s) { seen.push_back(s.ok() ? "2" : "2:" + s.error().message()); });
  second.set_value(ResourceError("disk full"));
  EXPECT_TRUE(TakePosted().empty());  // the first commit holds the line
  first.set_value(OkStatus());
  waiter_.Flush();
  for (auto& work : TakePosted()) {
    work();
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2:disk full"}));
}

TEST_F(CommitWaiterTest, CallbacksRunOnThePostersThreadNotTheWaiters) {
  std::promise<Status> commit;
  bool ran = false;
  waiter_.Then(commit.get_future(), [&](const Status&) { ran = true; });
  commit.set_value(OkStatus());
  waiter_.Flush();
  EXPECT_FALSE(ran);
  for (auto& work : TakePosted()) {
    work();
  }
  EXPECT_TRUE(ran);
}

TEST_F(CommitWaiterTest, ARelayPostsItsCallbackWithTheOutcomeItIsGiven) {
  std::vector<std::string> seen;
  auto relay =
      waiter_.Relay([&](const Status& s) { seen.push_back(s.ok() ? "ok" : s.error().message()); });
  EXPECT_TRUE(TakePosted().empty());  // nothing until the write reports
  relay(ResourceError("disk full"));
  EXPECT_TRUE(seen.empty());  // posted, not run on the reporting thread
  for (auto& work : TakePosted()) {
    work();
  }
  EXPECT_EQ(seen, std::vector<std::string>{"disk full"});
}

TEST_F(CommitWaiterTest, FlushWaitsForRelaysNotCalledYet) {
  auto relay = waiter_.Relay([](const Status&) {});
  std::promise<void> go;
  std::thread store([&] {
    go.get_future().wait();
    relay(OkStatus());
  });
  go.set_value();
  waiter_.Flush();  // returns only once the store's thread has reported
  EXPECT_EQ(TakePosted().size(), 1u);
  store.join();
}

TEST(CommitWaiterShutdownTest, DestructionWaitsForPendingCommitsAndPostsThem) {
  int posted = 0;
  std::promise<Status> commit;
  {
    CommitWaiter waiter([&](std::function<void()> work) {
      ++posted;
      work();
    });
    waiter.Then(commit.get_future(), [](const Status&) {});
    commit.set_value(OkStatus());
  }
  EXPECT_EQ(posted, 1);
}

TEST(CommitWaiterShutdownTest, DestructionWaitsForRelaysAndPostsThem) {
  int posted = 0;
  std::thread store;
  {
    CommitWaiter waiter([&](std::function<void()> work) {
      ++posted;
      work();
    });
    std::function<void(const Status&)> relay = waiter.Relay([](const Status&) {});
    store = std::thread([relay] { relay(OkStatus()); });
  }
  EXPECT_EQ(posted, 1);
  store.join();
}

}  // namespace
}  // namespace rebound::jobs
