#pragma once

// Sliding windows of call outcomes, the memory of a circuit breaker (and a retry budget).
//
//   CountWindow window(100);                     // the last 100 calls
//   WindowTotals totals = window.Record(kOutcomeFailure);
//   double failure_rate = totals.FailureRate();
//
//   TimeWindow window(60, clock);                // the last 60 seconds, 1 s buckets
//   window.Record(kOutcomeSuccess);
//
// Both are lock-free and allocation-free after construction, and exact once concurrent
// recorders have returned. A TimeWindow keeps a set of buckets per stripe of CPUs, so
// concurrent recorders on different CPUs never write the same cache line; its totals add the
// stripes up. In both, every slot or bucket change is made by one atomic exchange or
// compare-and-swap, and the totals move by the difference that exchange saw. Readers racing
// with writers may see a total that is off by the calls in flight.
//
// Thread-safe. The clock must outlive a TimeWindow.

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/clock.h"

namespace rebound::resilience {

// Bits of a recorded outcome.
inline constexpr uint8_t kOutcomeSuccess = 1;  // recorded, no failure
inline constexpr uint8_t kOutcomeFailure = 1 | 2;
inline constexpr uint8_t kOutcomeSlowBit = 4;  // OR-ed into either of the above

struct WindowTotals {
  int64_t calls = 0;
  int64_t failures = 0;
  int64_t slow = 0;

  double FailureRate() const {
    return calls == 0 ? 0.0 : static_cast<double>(failures) / static_cast<double>(calls);
  }
  double SlowRate() const {
    return calls == 0 ? 0.0 : static_cast<double>(slow) / static_cast<double>(calls);
  }
};

// The last `size` outcomes.
class CountWindow {
 public:
  // REQUIRES: size >= 1.
  explicit CountWindow(int size);

  void Record(uint8_t outcome);
  WindowTotals Totals() const;
  // True when a failure or slow call may be in the window (cheap; no summing).
  bool MayHoldBadCalls() const;
  void Reset();
  // Totals recomputed from every slot, O(size): what Totals() must equal at quiescence.
  WindowTotals Recount() const;

 private:
  const int size_;
  std::unique_ptr<std::atomic<uint8_t>[]> slots_;
  alignas(64) std::atomic<uint64_t> cursor_{0};
  alignas(64) std::atomic<int64_t> calls_{0};
  std::atomic<int64_t> failures_{0};
  std::atomic<int64_t> slow_{0};
};

// The outcomes of the last `seconds` seconds, in one-second buckets.
class TimeWindow {
 public:
  // REQUIRES: seconds >= 1.
  TimeWindow(int seconds, const Clock& clock);

  void Record(uint8_t outcome);
  // Also counts `amount` calls at once (for budgets that deposit per call).
  void Add(int64_t calls, int64_t failures, int64_t slow);
  WindowTotals Totals() const;
  bool MayHoldBadCalls() const;
  void Reset();

 private:
  // Each counter is one 64-bit word: the bucket's second (high 32 bits) and its count (low
  // 32), so a bucket is reused for a new second by a single compare-and-swap.
  struct alignas(64) Bucket {
    std::atomic<uint64_t> calls{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<uint64_t> slow{0};
  };

  static constexpr int kStripes = 4;

  uint32_t CurrentSecond() const;
  static void AddToWord(std::atomic<uint64_t>& word, uint32_t second, int64_t amount);

  const int seconds_;
  const Clock& clock_;
  const MonoTime origin_;
  std::unique_ptr<Bucket[]> buckets_;  // kStripes rows of seconds_ buckets
  std::atomic<uint32_t> last_bad_second_{0};
};

}  // namespace rebound::resilience
