#include "jobs/commit_waiter.h"

namespace rebound::jobs {

CommitWaiter::CommitWaiter(PostFn post) : post_(std::move(post)), thread_([this] { Loop(); }) {}

CommitWaiter::~CommitWaiter() {
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return relays_pending_ == 0; });
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void CommitWaiter::Then(std::future<Status> commit, std::function<void(const Status&)> callback) {
  auto shared = std::make_shared<std::future<Status>>(std::move(commit));
  Enqueue([shared, callback = std::move(callback)]() -> std::function<void()> {
    return [durable = shared->get(), callback] { callback(durable); };
  });
}

std::function<void(const Status&)> CommitWaiter::Relay(
    std::function<void(const Status&)> callback) {
  {
    std::lock_guard lock(mutex_);
    ++relays_pending_;
  }
  return [this, callback = std::move(callback)](const Status& durable) {
    post_([callback, durable] { callback(durable); });
    std::lock_guard lock(mutex_);
    --relays_pending_;
    idle_.notify_all();
  };
}

void CommitWaiter::Enqueue(Await await) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(std::move(await));
  }
  wake_.notify_one();
}

void CommitWaiter::Flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_.empty() && !busy_ && relays_pending_ == 0; });
}

void CommitWaiter::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) {
      return;  // stopping, and everything handed over
    }
    Await next = std::move(pending_.front());
    pending_.pop_front();
    busy_ = true;
    lock.unlock();
    post_(next());
    lock.lock();
    busy_ = false;
    idle_.notify_all();
  }
}

}  // namespace rebound::jobs
