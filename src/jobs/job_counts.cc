#include "jobs/job_counts.h"

namespace rebound::jobs {

void JobCounts::Reset(const JobsSummary& summary) {
  std::map<std::string, StateCounts> by_queue;
  for (const auto& [queue, states] : summary.by_queue) {
    StateCounts& counts = by_queue[queue];
    counts.fill(0);
    for (const auto& [state, count] : states) {
      if (auto parsed = ParseJobState(state); parsed.ok()) {
        counts[static_cast<size_t>(*parsed)] = count;
      }
    }
  }
  std::lock_guard lock(mutex_);
  by_queue_ = std::move(by_queue);
  initialised_ = true;
}

void JobCounts::Apply(const JobCountDelta& delta) {
  std::lock_guard lock(mutex_);
  if (!initialised_) {
    return;
  }
  for (const JobCountDelta::Change& change : delta.changes()) {
    auto [it, inserted] = by_queue_.try_emplace(change.queue);
    if (inserted) {
      it->second.fill(0);
    }
    it->second[static_cast<size_t>(change.state)] += change.count;
  }
}

std::optional<JobsSummary> JobCounts::Summary() const {
  JobsSummary summary;
  for (int i = 0; i < kJobStateCount; ++i) {
    summary.by_state[std::string(JobStateName(static_cast<JobState>(i)))] = 0;
  }
  std::lock_guard lock(mutex_);
  if (!initialised_) {
    return std::nullopt;
  }
  for (const auto& [queue, counts] : by_queue_) {
    for (int i = 0; i < kJobStateCount; ++i) {
      if (counts[static_cast<size_t>(i)] == 0) {
        continue;  // as a GROUP BY: only the pairs that have jobs
      }
      const std::string state(JobStateName(static_cast<JobState>(i)));
      summary.by_state[state] += counts[static_cast<size_t>(i)];
      summary.by_queue[queue][state] = counts[static_cast<size_t>(i)];
    }
  }
  return summary;
}

}  // namespace rebound::jobs
