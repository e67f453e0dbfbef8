#include "resilience/retry_budget.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/duration.h"

namespace rebound::resilience {

Result<std::unique_ptr<RetryBudget>> RetryBudget::Create(RetryBudgetConfig config,
                                                         const Clock& clock) {
  if (!(config.ratio >= 0.0 && config.ratio <= 1.0)) {
    return ValidationError("retry_budget.ratio must be between 0 and 1 (got " +
                           std::to_string(config.ratio) + ")");
  }
  if (!(config.min_retries_per_second >= 0.0) || !std::isfinite(config.min_retries_per_second)) {
    return ValidationError("retry_budget.min_retries_per_second must be >= 0 (got " +
                           std::to_string(config.min_retries_per_second) + ")");
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(config.window).count();
  if (seconds < 1 || seconds > 3600) {
    return ValidationError("retry_budget.window must be between 1s and 1h (got " +
                           FormatDuration(config.window) + ")");
  }
  return std::unique_ptr<RetryBudget>(new RetryBudget(config, static_cast<int>(seconds), clock));
}

void RetryBudget::RecordCall() { calls_.Add(1, 0, 0); }

bool RetryBudget::TryWithdraw() {
  const double allowed = std::max(config_.ratio * static_cast<double>(calls_.Totals().calls),
                                  config_.min_retries_per_second * window_seconds_);
  // Two racing callers may both pass with the last unit of budget: a budget is a rate
  // limit, and being off by the number of concurrent retriers is within its purpose.
  if (static_cast<double>(retries_.Totals().calls) + 1.0 > allowed) {
    return false;
  }
  retries_.Add(1, 0, 0);
  return true;
}

}  // namespace rebound::resilience
