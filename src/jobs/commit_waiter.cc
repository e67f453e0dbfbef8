#include "jobs/commit_waiter.h"

namespace rebound::jobs {

CommitWaiter::CommitWaiter(PostFn post) : post_(std::move(post)), thread_([this] { Loop(); }) {}

CommitWaiter::~CommitWaiter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void CommitWaiter::Then(std::future<Status> commit, std::function<void(const Status&)> callback) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back({std::move(commit), std::move(callback)});
  }
  wake_.notify_one();
}

void CommitWaiter::Flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_.empty() && !busy_; });
}

void CommitWaiter::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) {
      return;  // stopping, and everything handed over
    }
    Pending next = std::move(pending_.front());
    pending_.pop_front();
    busy_ = true;
    lock.unlock();
    Status durable = next.commit.get();
    post_([callback = std::move(next.callback), durable] { callback(durable); });
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

}  // namespace rebound::jobs
