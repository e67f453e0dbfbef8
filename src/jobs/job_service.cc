#include "jobs/job_service.h"

#include <algorithm>
#include <charconv>

#include "jobs/job_launcher.h"
#include "supervise/launcher_runner.h"
#include "supervise/launcher_shim.h"

namespace rebound::jobs {
namespace {

// "job:12.exit" -> 12; nullopt for any other file.
std::optional<int64_t> JobIdOfRecord(const std::string& file) {
  if (!file.starts_with("job:")) {
    return std::nullopt;
  }
  const size_t dot = file.rfind('.');
  if (dot == std::string::npos) {
    return std::nullopt;
  }
  int64_t id = 0;
  const char* begin = file.data() + 4;
  const char* end = file.data() + dot;
  auto [stop, error] = std::from_chars(begin, end, id);
  if (error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return id;
}

std::string QueueList(const std::set<std::string>& names) {
  std::string list;
  for (const std::string& name : names) {
    list += (list.empty() ? "" : ", ") + name;
  }
  return list;
}

}  // namespace

JobService::JobService(JobServiceOptions options, store::Store& store, FdWatcher& watcher,
                       Scheduler& scheduler, PostFn post, FileSystem& fs, const Clock& clock,
                       Random& random)
    : options_(std::move(options)),
      fs_(fs),
      scheduler_(scheduler),
      clock_(clock),
      post_(std::move(post)),
      store_(store.database(), store.writer(), &store.journal(), clock) {
  JobQueues queues(options_.queues);
  for (const std::string& name : queues.Names()) {
    queue_names_.insert(name);
  }
  shim_launcher_ = std::make_unique<supervise::ShimLauncher>(
      supervise::ShimLauncherOptions{.rebound_binary = options_.rebound_binary,
                                     .run_dir = options_.run_dir,
                                     .log_dir = options_.log_dir,
                                     .keep_records_after_exit = true,
                                     // The outcome's commit is the durable point: a power
                                     // loss before it leaves the outcome unknown, as one
                                     // while the job runs does (docs/jobs.md, "Crashes").
                                     .exit_records = FileDurability::kAtomicOnly},
      watcher, fs);
  // Built even when it starts nothing (no runner_binary): it adopts what a runner still runs.
  runner_launcher_ = std::make_unique<supervise::RunnerLauncher>(
      supervise::RunnerLauncherOptions{.runner_binary = options_.runner_binary,
                                       .run_dir = options_.run_dir,
                                       .log_dir = options_.log_dir},
      watcher, fs);
  supervise::ProcessLauncher& configured =
      options_.runner_binary.empty() ? *shim_launcher_ : *runner_launcher_;
  launcher_ = std::make_unique<JobLauncher>(configured, *shim_launcher_, *runner_launcher_,
                                            JobLauncherOptions{.run_dir = options_.run_dir}, fs);
  waiter_ = std::make_unique<CommitWaiter>(post_);
  manager_ = std::make_unique<JobManager>(
      JobManagerOptions{.queues = options_.queues, .log = options_.log, .warn = options_.warn},
      store_, *waiter_, *launcher_, scheduler, clock, random);
}

JobService::~JobService() {
  waiter_.reset();  // its last callbacks still reach the manager
  manager_.reset();
  launcher_.reset();
  runner_launcher_.reset();
  shim_launcher_.reset();
}

Status JobService::Recover() {
  // First: the store is exactly as earlier daemons left it, with no outcome of ours in flight.
  DiscardLeftoverRecords();
  REBOUND_RETURN_IF_ERROR(manager_->Recover());
  if (options_.retention > Duration(0)) {
    ScheduleRetention(Duration(0));
  }
  return OkStatus();
}

void JobService::ScheduleRetention(Duration delay) {
  scheduler_.ScheduleAt(clock_.MonotonicNow() + delay, [this] { ApplyRetention(); });
}

void JobService::ApplyRetention() {
  constexpr int kBatch = 1000;
  // A tenth of the retention, within [1 s, 1 h]: old jobs go within about 10% of it.
  const Duration interval =
      std::clamp<Duration>(options_.retention / 10, std::chrono::seconds(1), std::chrono::hours(1));
  if (stopping_) {
    return;
  }
  const int64_t cutoff_ms =
      ToUnixMillis(clock_.WallNow()) -
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
  waiter_->Then<int64_t>(
      store_.DeleteEndedBefore(cutoff_ms, kBatch, fs_, options_.log_dir, options_.log.keep),
      [this, interval](const Result<int64_t>& deleted) {
        if (stopping_) {
          return;  // the loop may be gone: nothing is scheduled any more
        }
        if (!deleted.ok()) {
          options_.warn("retention: " + deleted.error().message());
        }
        const bool more = deleted.ok() && *deleted == kBatch;
        ScheduleRetention(more ? Duration(0) : interval);
      });
}

// Records of jobs whose outcome an earlier daemon committed but that it died before removing.
// Only jobs the store says ended (or no longer has) lose their records: a job still "running"
// there may have its only outcome in its exit record, which must stay until this daemon has
// committed that outcome (the manager removes it then). Removing it earlier, while that
// commit was in flight, let a crash at that moment run a finished job again.
void JobService::DiscardLeftoverRecords() {
  auto files = fs_.ListDir(options_.run_dir);
  if (!files.ok()) {
    return;
  }
  std::set<int64_t> seen;
  for (const std::string& file : *files) {
    const std::optional<int64_t> id = JobIdOfRecord(file);
    if (!id || !seen.insert(*id).second) {
      continue;
    }
    auto job = store_.Get(*id);
    const bool ended =
        job.ok() ? IsTerminal(job->state) : job.error().category() == ErrorCategory::kNotFound;
    if (ended) {
      launcher_->DiscardRecords(ShimName(*id));
    }
  }
}

void JobService::SetObserver(JobObserver observer) {
  observer_ = observer;
  manager_->SetObserver(std::move(observer));
}

void JobService::Stop() {
  stopping_ = true;
  manager_->Stop();
}

Result<SubmitOutcome> JobService::SubmitJob(const JobSpec& spec) {
  if (stopping_) {
    return ResourceError("the daemon is shutting down and accepts no new jobs");
  }
  if (!queue_names_.contains(spec.queue)) {
    return ValidationError("field \"queue\": no queue named \"" + spec.queue +
                           "\"; configured queues: " + QueueList(queue_names_) +
                           " (add a [queues." + spec.queue + "] table to the config)");
  }
  auto outcome = store_.Submit(spec);
  if (outcome.ok() && outcome->created && observer_.submitted) {
    observer_.submitted(outcome->job);
  }
  if (outcome.ok() && outcome->created) {
    post_([this, job = outcome->job] { manager_->OnSubmitted(job); });
  }
  return outcome;
}

Result<JobRecord> JobService::GetJob(int64_t id) { return store_.Get(id); }

Result<std::vector<JobRecord>> JobService::ListJobs(const JobFilter& filter) {
  return store_.List(filter);
}

Result<JobRecord> JobService::OnLoop(std::function<Result<JobRecord>()> fn) {
  auto task = std::make_shared<std::packaged_task<Result<JobRecord>()>>(std::move(fn));
  std::future<Result<JobRecord>> result = task->get_future();
  post_([task] { (*task)(); });
  return result.get();
}

Result<JobRecord> JobService::CancelJob(int64_t id) {
  if (stopping_) {
    // As for a retry: its write would find the store closed (stopping, or the jobs could not be
    // recovered at start), and a running job is left to the next daemon anyway.
    return ResourceError("the daemon takes no job changes now (it is stopping, or its jobs "
                         "could not be recovered at start); cancel the job once it is back");
  }
  return OnLoop([this, id] { return manager_->Cancel(id); });
}

Result<JobRecord> JobService::RetryJob(int64_t id) {
  if (stopping_) {
    return ResourceError("the daemon is shutting down and starts no jobs");
  }
  return OnLoop([this, id] { return manager_->Retry(id); });
}

Result<JobsSummary> JobService::Summary() {
  auto summary = store_.Summary();
  if (summary.ok()) {
    IncludeQueues(*summary, {queue_names_.begin(), queue_names_.end()});
  }
  return summary;
}

Result<JobLogChunk> JobService::ReadJobLog(int64_t id, int64_t offset, int64_t max_bytes) {
  auto job = store_.Get(id);
  if (!job.ok()) {
    return job.error();
  }
  JobLogChunk chunk{.finished = IsTerminal(job->state)};
  auto text = fs_.ReadFile(options_.log_dir + "/" + ShimName(id) + ".log");
  if (!text.ok()) {
    if (text.error().category() == ErrorCategory::kNotFound) {
      return chunk;  // no output yet
    }
    return text.error();
  }
  const auto size = static_cast<int64_t>(text->size());
  const int64_t from = offset > size ? 0 : std::max<int64_t>(offset, 0);  // rotated: restart
  const int64_t length = std::min(max_bytes, size - from);
  chunk.data = text->substr(static_cast<size_t>(from), static_cast<size_t>(length));
  chunk.next_offset = from + length;
  chunk.finished = chunk.finished && chunk.next_offset >= size;
  return chunk;
}

}  // namespace rebound::jobs
