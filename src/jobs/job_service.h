#pragma once

// JobService: durable jobs inside the daemon: the JobStore, launchers of their own (new
// attempts under the shared job runner, RunnerLauncher, or a shim per attempt, ShimLauncher;
// either keeps exit records until the outcome is stored; an attempt an earlier daemon started
// under the other one is adopted by that one: JobLauncher), the CommitWaiter and the
// JobManager, behind the thread-safe JobController the API uses.
//
//   JobService jobs(options, store, reactor, reactor, post_to_reactor, fs, clock, random);
//   REBOUND_RETURN_IF_ERROR(jobs.Recover());     // loop thread, before the loop runs
//   api::RegisterJobRoutes(server, jobs);          // API threads from here on
//   ...
//   jobs.Stop();                                   // loop thread: no new attempts
//
// Submits are stored by the calling thread (they wait for the group commit) and handed to
// the manager on the loop thread; cancel and retry run on the loop thread (posted, waited
// for); reads go to the store. Jobs keep running under their shims when the daemon stops;
// the next daemon re-adopts them.
//
// Ended jobs older than `retention` are deleted in batches, with their logs, on a timer.
//
// Everything passed in must outlive it; the post function must keep working (inline is
// fine) until it is destroyed.

#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <string>

#include "base/fd_watcher.h"
#include "base/file_system.h"
#include "jobs/commit_waiter.h"
#include "jobs/job_controller.h"
#include "jobs/job_manager.h"
#include "jobs/job_store.h"
#include "store/store.h"
#include "supervise/launcher.h"

namespace rebound::jobs {

struct JobServiceOptions {
  std::vector<QueueSpec> queues;
  std::string rebound_binary;  // provides `rebound shim`
  // Provides `rebound runner`, which then runs every new attempt (the daemon's default). Empty:
  // each attempt runs under a shim of its own ("per-job"); attempts a live runner still runs
  // are adopted from it either way.
  std::string runner_binary = {};
  std::string run_dir;         // shared with services: job shims are named "job:ID"
  std::string log_dir;         // job:ID.log
  supervise::LogRotation log = {};
  // Ended jobs (and their logs) older than this are deleted; 0 keeps them forever.
  Duration retention = std::chrono::hours(24 * 7);
  std::function<void(std::string_view message)> warn = [](std::string_view) {};
};

class JobService final : public JobController {
 public:
  JobService(JobServiceOptions options, store::Store& store, FdWatcher& watcher,
             Scheduler& scheduler, PostFn post, FileSystem& fs, const Clock& clock, Random& random);
  ~JobService() override;

  // Loop thread.
  Status Recover();
  void Stop();
  std::map<std::string, QueueCounts> QueueCountsOnLoop() const { return manager_->Queues(); }
  // The configured queues' names, "default" included.
  std::vector<std::string> QueueNames() const { return {queue_names_.begin(), queue_names_.end()}; }
  // The counts by queue and state that Summary() reads, for other readers (the recovery
  // document). Thread-safe.
  std::shared_ptr<const JobCounts> counts() const { return store_.counts(); }
  // Tells `observer` of submits, attempts and final states (metrics). REQUIRES: before
  // Recover and before any submit (the daemon's API is not serving yet).
  void SetObserver(JobObserver observer);

  Result<SubmitOutcome> SubmitJob(const JobSpec& spec) override;
  Result<JobRecord> GetJob(int64_t id) override;
  Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) override;
  Result<JobRecord> CancelJob(int64_t id) override;
  Result<JobRecord> RetryJob(int64_t id) override;
  Result<JobsSummary> Summary() override;
  Result<JobLogChunk> ReadJobLog(int64_t id, int64_t offset, int64_t max_bytes) override;

 private:
  // Runs `fn` on the loop thread and waits for its result.
  Result<JobRecord> OnLoop(std::function<Result<JobRecord>()> fn);
  void DiscardLeftoverRecords();
  // Deletes a batch of ended jobs past the retention, then schedules the next batch.
  void ApplyRetention();
  void ScheduleRetention(Duration delay);

  JobServiceOptions options_;
  JobObserver observer_;
  FileSystem& fs_;
  Scheduler& scheduler_;
  const Clock& clock_;
  PostFn post_;
  std::set<std::string> queue_names_;
  std::atomic<bool> stopping_{false};
  JobStore store_;
  std::unique_ptr<supervise::ProcessLauncher> shim_launcher_;
  std::unique_ptr<supervise::ProcessLauncher> runner_launcher_;
  std::unique_ptr<supervise::ProcessLauncher> launcher_;  // routes to the two above
  std::unique_ptr<CommitWaiter> waiter_;
  std::unique_ptr<JobManager> manager_;
};

}  // namespace rebound::jobs
