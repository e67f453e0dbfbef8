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
  auto shared = std::make_shared<std::future<Status>>(std::move(commit));
  Enqueue([shared, callback = std::move(callback)]() -> std::function<void()> {
    return [durable = shared->get(), callback] { callback(durable); };
  });
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
  idle_.wait(lock, [this] { return pending_.empty() && !busy_; });
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
