#include "resilience/sliding_window.h"

#include "base/cpu.h"

namespace rebound::resilience {
namespace {

constexpr uint8_t kFailureBit = 2;

int64_t Bit(uint8_t outcome, uint8_t bit) { return (outcome & bit) != 0 ? 1 : 0; }

// Threads on different CPUs write different stripes. A thread that moves between reading
// its CPU and writing only costs a shared cache line: counts are exact either way.
int ThreadStripe(int stripes) { return CurrentCpu() % stripes; }

}  // namespace

CountWindow::CountWindow(int size)
    : size_(size), slots_(std::make_unique<std::atomic<uint8_t>[]>(static_cast<size_t>(size))) {
  Reset();
}

void CountWindow::Record(uint8_t outcome) {
  // In a full window of successes another success changes no total and no verdict, and
  // skipping it is indistinguishable from writing it: any later outcome overwrites a success
  // either way. This keeps the healthy fast path free of shared writes (no cache-line
  // ping-pong between threads).
  if (outcome == kOutcomeSuccess && calls_.load(std::memory_order_relaxed) == size_ &&
      failures_.load(std::memory_order_relaxed) == 0 &&
      slow_.load(std::memory_order_relaxed) == 0) {
    return;
  }
  const uint64_t index =
      cursor_.fetch_add(1, std::memory_order_relaxed) % static_cast<uint64_t>(size_);
  const uint8_t old = slots_[index].exchange(outcome, std::memory_order_acq_rel);
  if (old == outcome) {
    return;  // the common steady state: nothing to move
  }
  if (old == 0) {
    calls_.fetch_add(1, std::memory_order_relaxed);
  }
  if (const int64_t d = Bit(outcome, kFailureBit) - Bit(old, kFailureBit); d != 0) {
    failures_.fetch_add(d, std::memory_order_relaxed);
  }
  if (const int64_t d = Bit(outcome, kOutcomeSlowBit) - Bit(old, kOutcomeSlowBit); d != 0) {
    slow_.fetch_add(d, std::memory_order_relaxed);
  }
}

WindowTotals CountWindow::Totals() const {
  return {calls_.load(std::memory_order_relaxed), failures_.load(std::memory_order_relaxed),
          slow_.load(std::memory_order_relaxed)};
}

WindowTotals CountWindow::Recount() const {
  WindowTotals totals;
  for (int i = 0; i < size_; ++i) {
    const uint8_t outcome = slots_[i].load(std::memory_order_acquire);
    totals.calls += outcome != 0 ? 1 : 0;
    totals.failures += Bit(outcome, kFailureBit);
    totals.slow += Bit(outcome, kOutcomeSlowBit);
  }
  return totals;
}

bool CountWindow::MayHoldBadCalls() const {
  return failures_.load(std::memory_order_relaxed) != 0 ||
         slow_.load(std::memory_order_relaxed) != 0;
}

void CountWindow::Reset() {
  for (int i = 0; i < size_; ++i) {
    slots_[i].store(0, std::memory_order_relaxed);
  }
  cursor_.store(0, std::memory_order_relaxed);
  calls_.store(0, std::memory_order_relaxed);
  failures_.store(0, std::memory_order_relaxed);
  slow_.store(0, std::memory_order_release);
}

TimeWindow::TimeWindow(int seconds, const Clock& clock)
    : seconds_(seconds),
      clock_(clock),
      origin_(clock.MonotonicNow() - std::chrono::seconds(1)),  // second 0 means "empty"
      buckets_(std::make_unique<Bucket[]>(static_cast<size_t>(seconds) * kStripes)) {}

uint32_t TimeWindow::CurrentSecond() const {
  return static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.MonotonicNow() - origin_).count());
}

void TimeWindow::AddToWord(std::atomic<uint64_t>& word, uint32_t second, int64_t amount) {
  uint64_t old = word.load(std::memory_order_relaxed);
  while (true) {
    const uint32_t old_second = static_cast<uint32_t>(old >> 32);
    const uint64_t count =
        (old_second == second ? (old & 0xffffffffULL) : 0) + static_cast<uint64_t>(amount);
    const uint64_t updated = (static_cast<uint64_t>(second) << 32) | (count & 0xffffffffULL);
    if (word.compare_exchange_weak(old, updated, std::memory_order_acq_rel,
                                   std::memory_order_relaxed)) {
      return;
    }
  }
}

void TimeWindow::Record(uint8_t outcome) {
  Add(1, Bit(outcome, kFailureBit), Bit(outcome, kOutcomeSlowBit));
}

void TimeWindow::Add(int64_t calls, int64_t failures, int64_t slow) {
  const uint32_t second = CurrentSecond();
  Bucket& bucket = buckets_[static_cast<size_t>(ThreadStripe(kStripes)) * seconds_ +
                            second % static_cast<uint32_t>(seconds_)];
  AddToWord(bucket.calls, second, calls);
  if (failures != 0) {
    AddToWord(bucket.failures, second, failures);
  }
  if (slow != 0) {
    AddToWord(bucket.slow, second, slow);
  }
  if (failures != 0 || slow != 0) {
    last_bad_second_.store(second, std::memory_order_relaxed);
  }
}

WindowTotals TimeWindow::Totals() const {
  const uint32_t now = CurrentSecond();
  auto live = [&](uint64_t word) -> int64_t {
    const uint32_t second = static_cast<uint32_t>(word >> 32);
    const bool in_window = second != 0 && now - second < static_cast<uint32_t>(seconds_);
    return in_window ? static_cast<int64_t>(word & 0xffffffffULL) : 0;
  };
  WindowTotals totals;
  for (int i = 0; i < seconds_ * kStripes; ++i) {
    totals.calls += live(buckets_[i].calls.load(std::memory_order_relaxed));
    totals.failures += live(buckets_[i].failures.load(std::memory_order_relaxed));
    totals.slow += live(buckets_[i].slow.load(std::memory_order_relaxed));
  }
  return totals;
}

bool TimeWindow::MayHoldBadCalls() const {
  const uint32_t last_bad = last_bad_second_.load(std::memory_order_relaxed);
  return last_bad != 0 && CurrentSecond() - last_bad < static_cast<uint32_t>(seconds_);
}

void TimeWindow::Reset() {
  for (int i = 0; i < seconds_ * kStripes; ++i) {
    buckets_[i].calls.store(0, std::memory_order_relaxed);
    buckets_[i].failures.store(0, std::memory_order_relaxed);
    buckets_[i].slow.store(0, std::memory_order_relaxed);
  }
  last_bad_second_.store(0, std::memory_order_release);
}

}  // namespace rebound::resilience
