#pragma once

// CommitWaiter: runs a callback on the owner's thread once a group commit has resolved, so
// that a reactor can act after a write is durable (launch a job only once "running" is on
// disk) without ever blocking on an fsync.
//
//   CommitWaiter waiter([&reactor](std::function<void()> work) { reactor.Post(work); });
//   store.SaveThen(job, {}, waiter.Relay([this](const Status& durable) { Launch(job); }));
//   waiter.Then(store.DeleteEndedBefore(...), [this](const Result<int64_t>& n) { ... });
//   waiter.Flush();   // tests: every callback so far has been posted
//
// Relay is for writes that report their outcome by calling a function (JobStore::SaveThen):
// the store's thread posts the callback itself, in the order the writer finishes its writes
// (submission order); no thread waits. Then is for writes that return a future: one thread of
// the waiter's own waits on them in turn (writes resolve in submission order, so that is
// enough) and posts each callback. The two kinds are not ordered with each other.
// Thread-safe. The post function must stay usable until destruction, which waits for what is
// pending, relayed outcomes included.

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "base/error.h"

namespace rebound::jobs {

using PostFn = std::function<void(std::function<void()>)>;

class CommitWaiter {
 public:
  explicit CommitWaiter(PostFn post);
  ~CommitWaiter();
  CommitWaiter(const CommitWaiter&) = delete;
  CommitWaiter& operator=(const CommitWaiter&) = delete;

  void Then(std::future<Status> commit, std::function<void(const Status&)> callback);
  // The same for a write with a value.
  template <typename T>
  void Then(std::future<Result<T>> commit, std::function<void(const Result<T>&)> callback) {
    auto shared = std::make_shared<std::future<Result<T>>>(std::move(commit));
    Enqueue([shared, callback = std::move(callback)]() -> std::function<void()> {
      return [result = shared->get(), callback] { callback(result); };
    });
  }
  // A function to hand to a write as its completion: called once with the write's outcome
  // (on any thread), it posts `callback` with it. REQUIRES: the function is called exactly
  // once (destruction and Flush wait for it).
  std::function<void(const Status&)> Relay(std::function<void(const Status&)> callback);
  // Blocks until every callback handed to Then or Relay so far has been posted.
  void Flush();

 private:
  // Waits for one commit (on the waiter's thread) and returns what to post.
  using Await = std::function<std::function<void()>()>;

  void Enqueue(Await await);
  void Loop();

  PostFn post_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Await> pending_;
  bool busy_ = false;
  int64_t relays_pending_ = 0;  // Relay functions not called yet
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace rebound::jobs
