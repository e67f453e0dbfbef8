#pragma once

// WorkerPool: a few threads for slow work (a health probe, a webhook, a git commit) that
// must not run on the reactor. Work runs in submission order as threads free up; results
// go back by whatever the work captured (the daemon posts them to its reactor).
//
//   WorkerPool pool(8);
//   pool.Submit([&reactor] { auto r = Probe(); reactor.Post([r] { Apply(r); }); });
//
// Thread-safe. The destructor finishes the work already submitted, then joins.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rebound {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Submit(std::function<void()> work);
  // Work submitted and not yet started.
  size_t Pending() const;

 private:
  void Loop();

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rebound
