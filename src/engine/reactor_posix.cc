#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "engine/reactor.h"

namespace rebound::engine {

Result<std::unique_ptr<Reactor>> Reactor::Create() {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  const int timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || timer_fd < 0 || wake_fd < 0) {
    const int err = errno;
    for (int fd : {epoll_fd, timer_fd, wake_fd}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    return ErrnoError(err, "create the event loop");
  }
  auto reactor = std::unique_ptr<Reactor>(new Reactor(epoll_fd, timer_fd, wake_fd));  // owns them
  for (auto [fd, id] : {std::pair{timer_fd, kTimerWatch}, std::pair{wake_fd, kWakeWatch}}) {
    epoll_event event{.events = EPOLLIN, .data = {.u64 = id}};
    if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
      return ErrnoError(errno, "register with epoll");
    }
  }
  return reactor;
}

Reactor::Reactor(int epoll_fd, int timer_fd, int wake_fd)
    : epoll_fd_(epoll_fd),
      timer_fd_(timer_fd),
      wake_fd_(wake_fd),
      loop_thread_(std::this_thread::get_id()) {}

Reactor::~Reactor() {
  ::close(epoll_fd_);
  ::close(timer_fd_);
  ::close(wake_fd_);
}

void Reactor::Post(std::function<void()> work) {
  {
    std::unique_lock lock(posted_mutex_);
    if (closed_) {
      lock.unlock();
      RunAfterClose(work);
      return;
    }
    // Only the first item of a batch wakes the loop: a non-empty queue has a wake-up written
    // (or about to be) by whoever queued its first item, and the loop takes every item queued
    // until it swaps the queue out. One write per batch instead of one per item (a group
    // commit relays many outcomes at once).
    const bool was_empty = posted_.empty();
    posted_.push_back(std::move(work));
    if (!was_empty) {
      return;
    }
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void Reactor::Stop() {
  stop_requested_ = true;
  Post([this] { stopping_ = true; });
}

TimerId Reactor::ScheduleAt(MonoTime deadline, std::function<void()> callback) {
  const TimerId id = next_timer_++;
  const bool earliest = timers_.empty() || deadline < timers_.begin()->first.first;
  timers_.emplace(std::make_pair(deadline, id), std::move(callback));
  if (earliest) {
    ArmTimer();
  }
  return id;
}

void Reactor::Cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->first.second == id) {
      timers_.erase(it);
      return;  // a timerfd left armed for it just fires and finds nothing due
    }
  }
}

void Reactor::ArmTimer() {
  itimerspec spec{};
  if (!timers_.empty()) {
    const auto nanos = timers_.begin()->first.first.time_since_epoch().count();
    // An absolute time of zero would disarm the timer: fire "now" as 1 ns instead.
    const int64_t at = std::max<int64_t>(nanos, 1);
    spec.it_value.tv_sec = at / 1'000'000'000;
    spec.it_value.tv_nsec = at % 1'000'000'000;
  }
  ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void Reactor::RunDueTimers() {
  uint64_t expirations = 0;
  (void)!::read(timer_fd_, &expirations, sizeof(expirations));
  const MonoTime now = std::chrono::steady_clock::now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto callback = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    callback();
  }
  ArmTimer();
}

void Reactor::RunPosted() {
  uint64_t count = 0;
  (void)!::read(wake_fd_, &count, sizeof(count));
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(posted_mutex_);
    work.swap(posted_);
  }
  for (auto& item : work) {
    item();
  }
}

Status Reactor::WatchFd(int fd, std::function<void()> on_readable) {
  return Watch(fd, EPOLLIN, std::move(on_readable));
}

Status Reactor::WatchFdWritable(int fd, std::function<void()> on_writable) {
  return Watch(fd, EPOLLOUT, std::move(on_writable));
}

// Events carry a watch id, never reused, rather than the fd: a fd closed and reopened within
// one epoll_wait batch cannot receive the old fd's stale event.
Status Reactor::Watch(int fd, uint32_t events, std::function<void()> callback) {
  const uint64_t id = next_watch_++;
  epoll_event event{.events = events, .data = {.u64 = id}};
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
    return ErrnoError(errno, "watch fd " + std::to_string(fd));
  }
  watch_of_fd_[fd] = id;
  watches_[id] = std::make_shared<std::function<void()>>(std::move(callback));
  return OkStatus();
}

void Reactor::UnwatchFd(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  if (auto found = watch_of_fd_.find(fd); found != watch_of_fd_.end()) {
    watches_.erase(found->second);
    watch_of_fd_.erase(found);
  }
}

void Reactor::Run() {
  loop_thread_ = std::this_thread::get_id();
  stopping_ = stop_requested_.load();
  epoll_event events[64];
  while (!stopping_) {
    const int ready = ::epoll_wait(epoll_fd_, events, 64, -1);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;  // cannot happen with valid fds; leaving beats spinning
    }
    for (int i = 0; i < ready; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kTimerWatch) {
        RunDueTimers();
      } else if (id == kWakeWatch) {
        RunPosted();
      } else if (auto it = watches_.find(id); it != watches_.end()) {
        auto callback = it->second;  // the callback may unwatch itself
        (*callback)();
      }
    }
    if (after_round_) {
      after_round_();
    }
  }
  std::vector<std::function<void()>> leftover;
  {
    std::lock_guard lock(posted_mutex_);
    closed_ = true;
    leftover.swap(posted_);
  }
  for (auto& work : leftover) {
    RunAfterClose(work);
  }
}

// Work run after close may post again on this thread (a store write refused after its writer
// stopped finishes at once and relays its outcome): that nested post runs inline, where
// locking again would deadlock.
void Reactor::RunAfterClose(const std::function<void()>& work) {
  static thread_local bool running_after_close = false;
  if (running_after_close) {
    work();
    return;
  }
  std::lock_guard serial(after_close_mutex_);
  struct Running {
    Running() { running_after_close = true; }
    ~Running() { running_after_close = false; }
  } running;
  work();
}

}  // namespace rebound::engine
