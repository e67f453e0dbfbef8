#pragma once

// The baseline for resilience_bench: a straightforward circuit breaker with the same
// count-based window semantics, guarded by one mutex (how most hand-written breakers look).

#include <mutex>
#include <vector>

namespace rebound::bench {

class MutexBreaker {
 public:
  MutexBreaker(int window_size, int minimum_calls, double failure_rate_threshold)
      : outcomes_(static_cast<size_t>(window_size), 0),
        minimum_calls_(minimum_calls),
        threshold_(failure_rate_threshold) {}

  bool TryAcquirePermission() {
    std::lock_guard lock(mutex_);
    return !open_;
  }

  void OnResult(bool success) {
    std::lock_guard lock(mutex_);
    char& slot = outcomes_[next_ % outcomes_.size()];
    ++next_;
    calls_ += slot == 0 ? 1 : 0;
    failures_ -= slot == 2 ? 1 : 0;
    slot = success ? 1 : 2;
    failures_ += success ? 0 : 1;
    if (calls_ >= minimum_calls_ && failures_ >= threshold_ * calls_) {
      open_ = true;
    }
  }

 private:
  std::mutex mutex_;
  std::vector<char> outcomes_;
  size_t next_ = 0;
  int calls_ = 0;
  int failures_ = 0;
  bool open_ = false;
  const int minimum_calls_;
  const double threshold_;
};

}  // namespace rebound::bench
