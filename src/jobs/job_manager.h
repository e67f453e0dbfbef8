#pragma once

// JobManager: runs durable jobs: takes queued ones as their queue allows, launches each
// attempt under the ProcessLauncher (a shim named "job:ID"), enforces its timeout, applies
// its retry policy to the outcome, cancels, and after a daemon restart takes over what the
// previous daemon left (see Recover).
//
//   JobManager manager(options, store, waiter, launcher, scheduler, clock, random);
//   REBOUND_RETURN_IF_ERROR(manager.Recover());           // once, before the loop runs
//   manager.OnSubmitted(outcome.job);                      // after JobStore::Submit
//   Result<JobRecord> job = manager.Cancel(7);
//
// Durability: "running" (with the attempt number) is committed before the attempt is
// launched, and an outcome is committed before the shim's exit record is discarded. So after
// a crash a queued or retrying job has no live attempt; a running one either has a live shim
// (re-adopted), an exit record (its outcome is applied now), or neither (the attempt is
// treated as an unknown exit: retried if the job is idempotent, else interrupted). A
// succeeded job is final.
//
// Loop-thread only: every method, every launcher callback, every timer and every commit
// callback (CommitWaiter posts them to the loop). Everything passed in must outlive it.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "base/scheduler.h"
#include "jobs/commit_waiter.h"
#include "jobs/job.h"
#include "jobs/job_observer.h"
#include "jobs/job_queue.h"
#include "jobs/job_store.h"
#include "resilience/error_classifier.h"
#include "supervise/launcher.h"

namespace rebound::jobs {

struct JobManagerOptions {
  std::vector<QueueSpec> queues = {};
  supervise::LogRotation log = {};
  resilience::ErrorClassifier classifier = {};
  // Problems worth a person's attention (a state change that could not be stored).
  std::function<void(std::string_view message)> warn = [](std::string_view) {};
};

struct JobManagerStats {
  int64_t launched = 0;
  int64_t adopted = 0;
  int64_t succeeded = 0;
  int64_t retried = 0;
  int64_t store_errors = 0;
};

class JobManager {
 public:
  JobManager(JobManagerOptions options, JobStore& store, CommitWaiter& waiter,
             supervise::ProcessLauncher& launcher, Scheduler& scheduler, const Clock& clock,
             Random& random);

  // Takes over the unfinished jobs in the store. REQUIRES: called once, first.
  Status Recover();
  // A job just stored by JobStore::Submit (created). Jobs already known (queued, running,
  // or read by Recover, even if finished since) are ignored.
  void OnSubmitted(const JobRecord& job);
  // not_found, or conflict when it already ended.
  Result<JobRecord> Cancel(int64_t id);
  // Queues a failed, exhausted, cancelled or interrupted job again with fresh attempts;
  // conflict for any other state (a succeeded job never runs again).
  Result<JobRecord> Retry(int64_t id);
  // No new attempts start from now on; running ones go on under their shims.
  void Stop();
  // REQUIRES: before Recover.
  void SetObserver(JobObserver observer) { observer_ = std::move(observer); }

  bool IsActive(int64_t id) const { return active_.contains(id); }
  std::map<std::string, jobs::QueueCounts> Queues() const { return queues_.Counts(); }
  const JobManagerStats& stats() const { return stats_; }

 private:
  struct Active {
    JobRecord job;
    bool launched = false;  // its shim runs (launched or re-adopted)
    bool timed_out = false;
    WallTime attempt_started = {};  // when its shim was launched (or its run was recorded)
    std::optional<TimerId> timeout_timer = {};
    std::optional<TimerId> kill_timer = {};
    std::optional<TimerId> backoff_timer = {};
    bool requeue_pending = false;  // its backoff is over; queued once that is committed
    // The state of its last Persist (or as read): the store's guess of the row's state.
    std::optional<JobState> saved_state = {};
  };

  void Recover(JobRecord job);
  void Adopt(Active& active);
  void Dispatch();
  void StartAttempt(int64_t id);
  void OnRunningStored(int64_t id, const Status& stored);
  void Launch(Active& active);
  void ArmTimeout(Active& active, Duration remaining);
  void OnTimeout(int64_t id);
  void StopGracefully(Active& active);
  void OnExit(int64_t id, const supervise::ExitInfo& exit);
  void Conclude(Active& active, const supervise::ExitInfo& exit);
  void Apply(Active& active, JobEvent event, std::string message);
  void ArmBackoff(Active& active, Duration delay);
  void OnBackoffOver(int64_t id);
  void OnRequeueStored(int64_t id);
  void CancelTimers(Active& active);
  // Stores active.job (its state change and event), then runs `then` on the loop.
  void Persist(Active& active, std::function<void(const Status&)> then = {});
  supervise::ServiceSpec ShimSpec(const JobRecord& job) const;

  JobManagerOptions options_;
  JobStore& store_;
  CommitWaiter& waiter_;
  supervise::ProcessLauncher& launcher_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Random& random_;
  JobQueues queues_;
  std::map<int64_t, Active> active_;  // queued, running and retrying jobs
  std::optional<TimerId> rate_timer_;
  int64_t recovered_through_id_ = 0;
  bool stopping_ = false;
  bool recovering_ = false;
  JobManagerStats stats_;
  JobObserver observer_;
};

}  // namespace rebound::jobs
