#pragma once

// JobController: what the API may ask of the daemon's durable jobs. jobs::JobService
// implements it; api/job_routes.cc consumes it.
//
//   Result<SubmitOutcome> r = jobs.SubmitJob(spec);   // durable when it returns
//   Result<JobRecord> job = jobs.GetJob(r->job.id);
//   Result<JobsSummary> summary = jobs.Summary();     // counts by state and queue
//
// Implementations are thread-safe: API threads call them concurrently.

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "jobs/job.h"
#include "jobs/job_store.h"

namespace rebound::jobs {

struct JobLogChunk {
  std::string data = {};
  int64_t next_offset = 0;  // ask from here next time
  bool finished = false;    // the job has ended: nothing more will be written
};

class JobController {
 public:
  virtual ~JobController() = default;

  // validation (bad queue), resource (shutting down), or the store's error.
  virtual Result<SubmitOutcome> SubmitJob(const JobSpec& spec) = 0;
  virtual Result<JobRecord> GetJob(int64_t id) = 0;
  virtual Result<std::vector<JobRecord>> ListJobs(const JobFilter& filter) = 0;
  virtual Result<JobRecord> CancelJob(int64_t id) = 0;
  virtual Result<JobRecord> RetryJob(int64_t id) = 0;
  // Counts by state, overall and per queue (every configured queue, even an empty one).
  virtual Result<JobsSummary> Summary() = 0;
  // At most max_bytes of the job's output log from byte `offset` (0 again after rotation).
  virtual Result<JobLogChunk> ReadJobLog(int64_t id, int64_t offset, int64_t max_bytes) = 0;
};

}  // namespace rebound::jobs
