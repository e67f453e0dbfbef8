#pragma once

// RetryBudget: caps retries at a share of recent calls, so that during an outage retries
// cannot multiply the load on a struggling dependency (Finagle's and gRPC's idea).
//
//   auto budget = RetryBudget::Create({.ratio = 0.2, .window = 10s,
//                                      .min_retries_per_second = 1}, clock);
//   budget->RecordCall();                 // every first attempt
//   if (budget->TryWithdraw()) retry();   // every retry asks first
//
// A retry is allowed while retries in the window stay below
// max(ratio * calls in the window, min_retries_per_second * window seconds).
//
// Thread-safe and lock-free (TimeWindow); shared by every caller of one dependency.
// The clock must outlive the budget.

#include <memory>

#include "base/clock.h"
#include "base/error.h"
#include "resilience/sliding_window.h"

namespace rebound::resilience {

struct RetryBudgetConfig {
  double ratio = 0.2;
  Duration window = std::chrono::seconds(10);
  double min_retries_per_second = 1.0;
};

class RetryBudget {
 public:
  static Result<std::unique_ptr<RetryBudget>> Create(RetryBudgetConfig config, const Clock& clock);

  void RecordCall();
  // True, and the retry is counted, when the budget allows one more retry now.
  bool TryWithdraw();

  int64_t calls_in_window() const { return calls_.Totals().calls; }
  int64_t retries_in_window() const { return retries_.Totals().calls; }

 private:
  RetryBudget(RetryBudgetConfig config, int window_seconds, const Clock& clock)
      : config_(config),
        window_seconds_(window_seconds),
        calls_(window_seconds, clock),
        retries_(window_seconds, clock) {}

  RetryBudgetConfig config_;
  int window_seconds_;
  TimeWindow calls_;
  TimeWindow retries_;
};

}  // namespace rebound::resilience
