#pragma once

// Reactor: the daemon's one event loop. epoll over file descriptors (pidfds of shims, the
// signalfd, sockets), one timerfd armed for the earliest deadline, and an eventfd through
// which other threads post work. All daemon state is owned by the loop thread, so domain
// logic needs no locks.
//
//   auto reactor = Reactor::Create();
//   (*reactor)->Post([&] { supervisor.StartAll(); });        // from any thread
//   (*reactor)->ScheduleAt(now + 100ms, [&] { ... });         // loop thread only
//   (*reactor)->WatchFd(pidfd, [&] { OnShimExit(); });        // loop thread only
//   (*reactor)->Run();                                        // until Stop()
//
// Post, Call and Stop are thread-safe; the rest must be called on the loop thread (or before
// Run starts). Callbacks run on the loop thread. Once Run has returned, posted work runs at
// once on the posting thread (one at a time), so a late Call never blocks forever. Real time only
// (CLOCK_MONOTONIC): tests of logic use ManualScheduler instead.

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/fd_watcher.h"
#include "base/scheduler.h"

namespace rebound::engine {

class Reactor final : public Scheduler, public FdWatcher {
 public:
  static Result<std::unique_ptr<Reactor>> Create();
  ~Reactor() override;

  void Run();
  void Stop();
  void Post(std::function<void()> work);
  // Runs `fn` on the loop thread and waits for its result. REQUIRES: not on the loop thread,
  // and the loop is running (or will run).
  template <typename Fn>
  auto Call(Fn fn) -> std::invoke_result_t<Fn&> {
    using R = std::invoke_result_t<Fn&>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(fn));
    std::future<R> result = task->get_future();
    Post([task] { (*task)(); });
    return result.get();
  }
  bool InLoopThread() const { return std::this_thread::get_id() == loop_thread_; }
  // Runs `hook` on the loop thread after each round of callbacks (one epoll wake-up), e.g. to
  // publish what the round changed. REQUIRES: before Run.
  void SetAfterRound(std::function<void()> hook) { after_round_ = std::move(hook); }

  TimerId ScheduleAt(MonoTime deadline, std::function<void()> callback) override;
  void Cancel(TimerId id) override;

  // Calls `on_readable` whenever `fd` is readable (level-triggered) until UnwatchFd.
  // The reactor does not own fd.
  Status WatchFd(int fd, std::function<void()> on_readable) override;
  Status WatchFdWritable(int fd, std::function<void()> on_writable) override;
  void UnwatchFd(int fd) override;

 private:
  Reactor(int epoll_fd, int timer_fd, int wake_fd);
  void ArmTimer();
  void RunDueTimers();
  void RunPosted();
  Status Watch(int fd, uint32_t events, std::function<void()> callback);

  const int epoll_fd_;
  const int timer_fd_;
  const int wake_fd_;
  std::thread::id loop_thread_;
  bool stopping_ = false;  // loop thread
  std::atomic<bool> stop_requested_{false};
  TimerId next_timer_ = 1;
  std::map<std::pair<MonoTime, TimerId>, std::function<void()>> timers_;
  static constexpr uint64_t kTimerWatch = 1;
  static constexpr uint64_t kWakeWatch = 2;
  uint64_t next_watch_ = 3;
  std::map<uint64_t, std::shared_ptr<std::function<void()>>> watches_;  // by watch id
  std::map<int, uint64_t> watch_of_fd_;
  std::function<void()> after_round_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  bool closed_ = false;           // guarded by posted_mutex_: Run has returned
  std::mutex after_close_mutex_;  // serializes work posted after Run returned
  void RunAfterClose(const std::function<void()>& work);
};

}  // namespace rebound::engine
