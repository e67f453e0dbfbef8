#pragma once

// JobStore: jobs in rebound's SQLite database (table `jobs`, docs/store.md).
//
//   JobStore jobs(database, writer, &journal, clock);
//   Result<SubmitOutcome> r = jobs.Submit(spec);     // returns once durable (group commit)
//   std::future<Status> saved = jobs.Save(job, JobState::kQueued);  // a change, not waited for
//   Result<JobRecord> job = jobs.Get(7);             // not_found if unknown
//
// Submit with an idempotency key that is already stored returns that job (created = false)
// and stores nothing. Every write also keeps the counts by queue and state (JobCounts) that
// Summary() returns, counted from the table once at construction. Every Save also appends a "job"
// event (kind = the new state) to the journal when one is given. Reads see what is committed.
//
// Thread-safe. Database, writer, journal and clock must outlive it.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/file_system.h"
#include "jobs/job.h"
#include "jobs/job_counts.h"
#include "store/database.h"
#include "store/group_commit.h"
#include "store/journal.h"

namespace rebound::jobs {

struct SubmitOutcome {
  JobRecord job;
  bool created = true;  // false: the key named an existing job, which is returned
};

struct JobFilter {
  std::optional<JobState> state = {};
  std::optional<std::string> queue = {};
  int64_t after_id = 0;  // paging: ids greater than this
  int limit = 100;
};

// Gives each of `queues` (configured ones, even empty) every state, 0 where it has no job.
void IncludeQueues(JobsSummary& summary, const std::vector<std::string>& queues);

// Each queue's backlog, {"queued", "running", "retrying"} -> count: what /health and the
// recovery document show per queue.
std::map<std::string, std::map<std::string, int64_t>> QueueBacklogs(const JobsSummary& summary);

// Counts the jobs table by queue and state (a GROUP BY over every row): what JobCounts starts
// from, and what an offline reader (no daemon) uses.
Result<JobsSummary> CountJobs(store::Database& database);

struct UnfinishedJobs {
  std::vector<JobRecord> jobs;
  // The highest id stored when they were read: every job up to it is either in `jobs` or
  // has ended, so a late "submitted" notice for it must not queue it again.
  int64_t max_id = 0;
};

class JobStore {
 public:
  JobStore(store::Database& database, store::GroupCommitWriter& writer,
           store::EventJournal* journal, const Clock& clock);

  Result<SubmitOutcome> Submit(const JobSpec& spec);
  // REQUIRES: job.id was returned by Submit. Stamps updated_at_ms. `stored_state`, when
  // given, is the state the caller last saved or read for the job: when the row still has it
  // (in the job's queue) the write skips reading the row before updating it. A wrong guess
  // costs that read and nothing else: the counts follow the row either way.
  std::future<Status> Save(const JobRecord& job, std::optional<JobState> stored_state = {});
  // As Save, for a caller that must not wait or keep a thread waiting: `done` gets the
  // outcome on a store thread once it is durable (or has failed), in the order of the
  // saves; a save refused because the store has stopped calls it at once, on the caller's
  // thread. It must be quick and not throw.
  void SaveThen(const JobRecord& job, std::optional<JobState> stored_state,
                std::function<void(const Status&)> done);
  Result<JobRecord> Get(int64_t id);
  Result<std::vector<JobRecord>> List(const JobFilter& filter);
  // Jobs in queued, running or retrying: what a starting daemon takes over.
  Result<UnfinishedJobs> LoadUnfinished();
  // The counts as of the last commit, kept in memory (JobCounts): no read of the table. The
  // first call waits for the count made at construction.
  Result<JobsSummary> Summary();
  // The same counts as shared by every reader (the daemon's recovery document). They stay
  // readable, no longer updated, after this store is gone.
  std::shared_ptr<const JobCounts> counts() const { return counts_; }
  // Deletes up to `limit` jobs that ended (succeeded, failed, exhausted, cancelled,
  // interrupted) before `cutoff_ms`, and their logs (LOG_DIR/job:ID.log and its rotations,
  // up to `log_keep`); resolves to how many jobs went. Logs go before the commit: a failed
  // commit keeps the rows without their logs.
  std::future<Result<int64_t>> DeleteEndedBefore(int64_t cutoff_ms, int limit, FileSystem& fs,
                                                 const std::string& log_dir, int log_keep);

 private:
  Result<std::vector<JobRecord>> Select(const std::string& where,
                                        const std::vector<std::string>& params, int limit);
  // Counts the table on the writer's thread, in order with the writes, and installs the
  // result in counts_ once that transaction has committed.
  std::future<Status> CountOnWriter();

  store::Database& database_;
  store::GroupCommitWriter& writer_;
  store::EventJournal* journal_;
  const Clock& clock_;
  std::shared_ptr<JobCounts> counts_ = std::make_shared<JobCounts>();
};

}  // namespace rebound::jobs
