#pragma once

// JobCounts: how many jobs are in each state, per queue, kept in memory as the store commits
// its writes, so that /health, /metrics and the recovery document read them without counting
// the whole jobs table (a GROUP BY over tens of thousands of rows on every /health poll).
//
//   auto counts = std::make_shared<JobCounts>();
//   counts->Reset(*CountJobs(database));           // once, from the table (JobStore does it)
//   JobCountDelta delta;
//   delta.Move("mail", JobState::kQueued, JobState::kRunning);
//   counts->Apply(delta);                          // right after that write committed
//   std::optional<JobsSummary> now = counts->Summary();   // nullopt until the first Reset
//
// JobStore owns the only writer of the jobs table and calls Reset and Apply on the group-commit
// writer's thread, in commit order (GroupCommitWriter::PendingWrite::Committed), so the counts
// equal what a GROUP BY over the committed table would say.
//
// Thread-safe.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace rebound::jobs {

// How many jobs are in each state, overall and per queue. by_state names every state (0 or
// more); by_queue has the (queue, state) pairs that have jobs, as a GROUP BY gives them
// (IncludeQueues in job_store.h adds configured queues with zeros).
struct JobsSummary {
  std::map<std::string, int64_t> by_state = {};
  std::map<std::string, std::map<std::string, int64_t>> by_queue = {};
  bool operator==(const JobsSummary&) const = default;
};

// What one write did to the counts.
class JobCountDelta {
 public:
  struct Change {
    std::string queue;
    JobState state;
    int64_t count;
  };
  void Add(const std::string& queue, JobState state, int64_t count) {
    changes_.push_back({queue, state, count});
  }
  void Move(const std::string& queue, JobState from, JobState to) {
    if (from != to) {
      Add(queue, from, -1);
      Add(queue, to, +1);
    }
  }
  void Clear() { changes_.clear(); }
  const std::vector<Change>& changes() const { return changes_; }

 private:
  std::vector<Change> changes_;
};

class JobCounts {
 public:
  // Replaces every count with `summary`'s (a count of the table).
  void Reset(const JobsSummary& summary);
  // Ignored until the first Reset (which counts what came before it).
  void Apply(const JobCountDelta& delta);
  std::optional<JobsSummary> Summary() const;

 private:
  using StateCounts = std::array<int64_t, kJobStateCount>;
  mutable std::mutex mutex_;
  bool initialised_ = false;                    // GUARDED_BY(mutex_)
  std::map<std::string, StateCounts> by_queue_;  // GUARDED_BY(mutex_)
};

}  // namespace rebound::jobs
