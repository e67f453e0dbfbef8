#include "engine/reactor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace rebound::engine {
namespace {

using namespace std::chrono_literals;

class ReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*Reactor::Create());
    loop_ = std::thread([this] { reactor_->Run(); });
  }
  void TearDown() override {
    reactor_->Stop();
    loop_.join();
  }
  std::unique_ptr<Reactor> reactor_;
  std::thread loop_;
};

TEST_F(ReactorTest, CallRunsOnTheLoopThreadAndReturnsTheResult) {
  const auto caller = std::this_thread::get_id();
  auto [value, on_loop, other_thread] = reactor_->Call([&] {
    return std::tuple(42, reactor_->InLoopThread(), std::this_thread::get_id() != caller);
  });
  EXPECT_EQ(value, 42);
  EXPECT_TRUE(on_loop);
  EXPECT_TRUE(other_thread);
}

// Posts wake the loop once per batch (the first item of an empty queue): none may be left
// behind however posts from several threads interleave with the loop taking them.
TEST_F(ReactorTest, EveryPostFromManyThreadsRunsOnTheLoop) {
  constexpr int kThreads = 4;
  constexpr int kPostsEach = 5000;
  std::mutex mutex;
  std::condition_variable all_ran;
  int ran = 0;  // guarded by mutex
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPostsEach; ++i) {
        reactor_->Post([&] {
          std::lock_guard lock(mutex);
          if (++ran == kThreads * kPostsEach) {
            all_ran.notify_all();
          }
        });
      }
    });
  }
  for (auto& poster : posters) {
    poster.join();
  }
  std::unique_lock lock(mutex);
  // Generous: a lost wake-up leaves posts waiting for good, not for a while.
  EXPECT_TRUE(all_ran.wait_for(lock, 60s, [&] { return ran == kThreads * kPostsEach; }))
      << ran << " of " << kThreads * kPostsEach << " ran";
}

TEST_F(ReactorTest, TimersFireInDeadlineOrderAndCancelledOnesDoNot) {
  std::promise<void> done;
  std::vector<int> fired;  // touched only on the loop thread
  reactor_->Post([&] {
    const MonoTime now = std::chrono::steady_clock::now();
    reactor_->ScheduleAt(now + 30ms, [&] {
      fired.push_back(3);
      done.set_value();
    });
    reactor_->ScheduleAt(now + 10ms, [&] { fired.push_back(1); });
    const TimerId cancelled = reactor_->ScheduleAt(now + 15ms, [&] { fired.push_back(99); });
    reactor_->ScheduleAt(now + 20ms, [&] { fired.push_back(2); });
    reactor_->Cancel(cancelled);
  });
  ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(reactor_->Call([&] { return fired; }), (std::vector<int>{1, 2, 3}));
}

TEST_F(ReactorTest, ATimerInThePastFiresAtOnce) {
  std::promise<void> done;
  reactor_->Post([&] {
    reactor_->ScheduleAt(std::chrono::steady_clock::now() - 1s, [&] { done.set_value(); });
  });
  EXPECT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
}

TEST_F(ReactorTest, WatchedFdCallsBackWhenReadableUntilUnwatched) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::promise<std::string> got;
  Status watched = reactor_->Call([&] {
    return reactor_->WatchFd(fds[0], [&] {
      char buffer[16];
      const ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
      reactor_->UnwatchFd(fds[0]);
      got.set_value(std::string(buffer, static_cast<size_t>(n)));
    });
  });
  ASSERT_TRUE(watched.ok());
  ASSERT_EQ(::write(fds[1], "ping", 4), 4);
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(future.get(), "ping");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(ReactorStopTest, WorkPostedAfterTheLoopEndedRunsAtOnceInsteadOfHanging) {
  auto reactor = std::move(*Reactor::Create());
  reactor->Stop();
  reactor->Run();
  EXPECT_EQ(reactor->Call([] { return 7; }), 7);
}

// Work run after the loop ended may post again from inside (a store write refused after its
// writer stopped relays its outcome at once): the nested post runs inline, never deadlocks.
TEST(ReactorStopTest, APostFromWorkRunAfterTheLoopEndedRunsInline) {
  auto reactor = std::move(*Reactor::Create());
  reactor->Stop();
  reactor->Run();
  std::vector<int> order;
  reactor->Post([&] {
    order.push_back(1);
    reactor->Post([&] { order.push_back(2); });
    order.push_back(3);
  });
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  reactor->Post([&] { order.push_back(4); });  // and the next one from outside still runs
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(ReactorStopTest, StopBeforeRunReturnsImmediately) {
  auto reactor = std::move(*Reactor::Create());
  reactor->Stop();
  reactor->Run();  // must not block
  SUCCEED();
}

}  // namespace
}  // namespace rebound::engine
