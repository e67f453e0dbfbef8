#pragma once

// JobQueues: which job runs next. Each named queue has a concurrency limit and an optional
// start rate; within a queue the highest priority goes first, FIFO (by id) among equals.
//
//   JobQueues queues({{.name = "default", .concurrency = 4},
//                     {.name = "mail", .concurrency = 1, .rate_per_second = 2}});
//   queues.Push("mail", /*priority=*/0, /*id=*/7);
//   while (auto next = queues.PopReady(clock.MonotonicNow())) Start(next->id);
//   queues.Finished("mail");          // a slot frees up when a job leaves `running`
//   std::optional<MonoTime> wake = queues.NextRateSlot();   // a rate held some back
//
// Pure bookkeeping (no I/O, no timers): the JobManager decides when to ask. Not thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace rebound::jobs {

struct QueueSpec {
  std::string name;
  int concurrency = 4;
  double rate_per_second = 0;  // 0: no limit on how fast jobs start
  int line = 0;                // where it is configured, for messages
};

struct QueueCounts {
  int64_t ready = 0;    // queued, waiting for a slot
  int64_t running = 0;  // slots in use
  int concurrency = 0;
};

struct ReadyJob {
  std::string queue;
  int64_t id = 0;
};

class JobQueues {
 public:
  // A "default" queue is added (concurrency 4) unless `specs` names one.
  explicit JobQueues(std::vector<QueueSpec> specs);

  bool Has(const std::string& queue) const { return queues_.contains(queue); }
  std::vector<std::string> Names() const;

  // REQUIRES: Has(queue). A job already queued is not added twice.
  void Push(const std::string& queue, int priority, int64_t id);
  // Removes a queued job (cancelled); false if it was not queued.
  bool Remove(const std::string& queue, int priority, int64_t id);
  // A slot is taken by a job that runs without having been popped (re-adopted).
  void Occupy(const std::string& queue);
  void Finished(const std::string& queue);

  // The next job allowed to start now, taking its slot; nullopt if none is.
  std::optional<ReadyJob> PopReady(MonoTime now);
  // When a queue held back only by its rate may start its next job.
  std::optional<MonoTime> NextRateSlot() const;

  std::map<std::string, QueueCounts> Counts() const;

 private:
  struct Queue {
    QueueSpec spec;
    // (-priority, id): begin() is the highest priority, then the oldest.
    std::set<std::pair<int64_t, int64_t>> ready = {};
    int running = 0;
    std::optional<MonoTime> last_start = {};
  };

  static std::optional<MonoTime> RateSlot(const Queue& queue);

  std::map<std::string, Queue> queues_;
};

}  // namespace rebound::jobs
