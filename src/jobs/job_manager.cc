#include "jobs/job_manager.h"

#include <csignal>

#include "jobs/job_outcome.h"

namespace rebound::jobs {
namespace {

using supervise::AdoptOutcome;
using supervise::ExitInfo;

// Every caller checked the transition first: a failure here is a bug in this file.
JobState Next(JobState from, JobEvent event) {
  auto next = NextJobState(from, event);
  if (!next.ok()) {
    std::abort();
  }
  return *next;
}

Duration SinceMillis(const Clock& clock, int64_t at_ms) {
  return std::chrono::milliseconds(ToUnixMillis(clock.WallNow()) - at_ms);
}

}  // namespace

JobManager::JobManager(JobManagerOptions options, JobStore& store, CommitWaiter& waiter,
                       supervise::ProcessLauncher& launcher, Scheduler& scheduler,
                       const Clock& clock, Random& random)
    : options_(std::move(options)),
      store_(store),
      waiter_(waiter),
      launcher_(launcher),
      scheduler_(scheduler),
      clock_(clock),
      random_(random),
      queues_(options_.queues) {}

Status JobManager::Recover() {
  auto jobs = store_.LoadUnfinished();
  if (!jobs.ok()) {
    return jobs.error().WithContext("load unfinished jobs");
  }
  recovered_through_id_ = jobs->max_id;
  // Nothing starts until every re-adopted job holds its slot, or a queue would overfill.
  recovering_ = true;
  for (JobRecord& job : jobs->jobs) {
    if (!queues_.Has(job.spec.queue)) {
      options_.warn("job " + std::to_string(job.id) + ": queue \"" + job.spec.queue +
                    "\" is no longer configured; it runs in the default queue");
      job.spec.queue = std::string(kDefaultQueue);
    }
    Recover(std::move(job));
  }
  recovering_ = false;
  Dispatch();
  return OkStatus();
}

void JobManager::Recover(JobRecord job) {
  const int64_t id = job.id;
  const JobState stored = job.state;
  Active& active = active_[id] = Active{.job = std::move(job), .saved_state = stored};
  switch (active.job.state) {
    case JobState::kQueued:
      // "running" is stored before a launch, so records here are from an earlier attempt.
      launcher_.DiscardRecords(ShimName(id));
      queues_.Push(active.job.spec.queue, active.job.spec.priority, id);
      break;
    case JobState::kRetrying:
      launcher_.DiscardRecords(ShimName(id));
      ArmBackoff(active, std::max<Duration>(Duration(0), std::chrono::milliseconds(
                                                             active.job.not_before_ms -
                                                             ToUnixMillis(clock_.WallNow()))));
      break;
    default:
      Adopt(active);
      break;
  }
}

void JobManager::Adopt(Active& active) {
  const int64_t id = active.job.id;
  queues_.Occupy(active.job.spec.queue);
  auto adoption =
      launcher_.Adopt(ShimSpec(active.job), [this, id](const ExitInfo& exit) { OnExit(id, exit); });
  if (adoption.ok() && adoption->outcome == AdoptOutcome::kRunning) {
    ++stats_.adopted;
    active.launched = true;  // unchanged in the store: its row still dates the attempt's start
    active.attempt_started = FromUnixMillis(active.job.updated_at_ms);
    if (active.job.spec.timeout > Duration(0)) {
      ArmTimeout(active, active.job.spec.timeout - SinceMillis(clock_, active.job.updated_at_ms));
    }
    if (active.job.cancel_requested) {
      StopGracefully(active);
    }
    return;
  }
  ExitInfo exit = adoption.ok() && adoption->outcome == AdoptOutcome::kExitedMeanwhile
                      ? adoption->exit
                      : ExitInfo{.ended = clock_.WallNow(),
                                 .description = "its shim was not found after a daemon restart"};
  if (!adoption.ok()) {
    exit.description += " (" + adoption.error().message() + ")";
  }
  OnExit(id, exit);
}

void JobManager::OnSubmitted(const JobRecord& job) {
  // A job Recover() saw is already handled (it may even have finished since).
  if (active_.contains(job.id) || job.id <= recovered_through_id_ ||
      job.state != JobState::kQueued) {
    return;
  }
  Active& active = active_[job.id] = Active{.job = job, .saved_state = JobState::kQueued};
  if (!queues_.Has(job.spec.queue)) {
    active.job.spec.queue = std::string(kDefaultQueue);  // the service checked; a reload raced
  }
  queues_.Push(active.job.spec.queue, job.spec.priority, job.id);
  Dispatch();
}

void JobManager::Dispatch() {
  if (stopping_ || recovering_) {
    return;
  }
  while (auto next = queues_.PopReady(clock_.MonotonicNow())) {
    StartAttempt(next->id);
  }
  const std::optional<MonoTime> slot = queues_.NextRateSlot();
  if (slot && !rate_timer_) {
    rate_timer_ = scheduler_.ScheduleAt(*slot, [this] {
      rate_timer_.reset();
      Dispatch();
    });
  }
}

void JobManager::StartAttempt(int64_t id) {
  Active& active = active_.at(id);
  active.job.state = Next(active.job.state, JobEvent::kStarted);
  ++active.job.attempt;
  active.job.message = "attempt " + std::to_string(active.job.attempt) + " of " +
                       std::to_string(active.job.spec.retry.max_attempts) + " starting";
  active.timed_out = false;
  launcher_.DiscardRecords(ShimName(id));  // an earlier attempt's exit must not be read back
  Persist(active, [this, id](const Status& stored) { OnRunningStored(id, stored); });
}

void JobManager::OnRunningStored(int64_t id, const Status& stored) {
  auto it = active_.find(id);
  if (it == active_.end() || it->second.launched) {
    return;
  }
  Active& active = it->second;
  if (stopping_) {
    return;  // the next daemon finds it "running" without a shim and decides then
  }
  if (!stored.ok()) {
    OnExit(id,
           ExitInfo{.ended = clock_.WallNow(),
                    .description = "its start could not be stored: " + stored.error().message()});
    return;
  }
  if (active.job.cancel_requested) {
    OnExit(id, ExitInfo{.ended = clock_.WallNow(), .description = "cancelled before it started"});
    return;
  }
  Launch(active);
}

supervise::ServiceSpec JobManager::ShimSpec(const JobRecord& job) const {
  supervise::ServiceSpec spec{.name = ShimName(job.id),
                              .command = job.spec.command,
                              .cwd = job.spec.cwd,
                              .env = job.spec.env,
                              .stop_timeout = job.spec.stop_timeout,
                              .log = options_.log};
  spec.env["REBOUND_JOB_ID"] = std::to_string(job.id);
  spec.env["REBOUND_JOB_ATTEMPT"] = std::to_string(job.attempt);
  return spec;
}

void JobManager::Launch(Active& active) {
  const int64_t id = active.job.id;
  auto launched = launcher_.Launch(ShimSpec(active.job),
                                   [this, id](const ExitInfo& exit) { OnExit(id, exit); });
  if (!launched.ok()) {
    // Reported like an exit so that the retry policy applies; the classifier sees no code.
    OnExit(id, ExitInfo{.ended = clock_.WallNow(),
                        .description = "could not start: " + launched.error().message()});
    return;
  }
  ++stats_.launched;
  active.launched = true;
  active.attempt_started = clock_.WallNow();
  if (observer_.attempt_started) {
    observer_.attempt_started(active.job);
  }
  if (active.job.spec.timeout > Duration(0)) {
    ArmTimeout(active, active.job.spec.timeout);
  }
}

void JobManager::ArmTimeout(Active& active, Duration remaining) {
  const int64_t id = active.job.id;
  active.timeout_timer = scheduler_.ScheduleAt(
      clock_.MonotonicNow() + std::max(Duration(0), remaining), [this, id] { OnTimeout(id); });
}

void JobManager::OnTimeout(int64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    return;
  }
  it->second.timeout_timer.reset();
  it->second.timed_out = true;
  StopGracefully(it->second);
}

void JobManager::StopGracefully(Active& active) {
  const std::string name = ShimName(active.job.id);
  (void)launcher_.Signal(name, SIGTERM);
  if (!active.kill_timer) {
    active.kill_timer = scheduler_.ScheduleAt(clock_.MonotonicNow() + active.job.spec.stop_timeout,
                                              [this, name] { (void)launcher_.Kill(name); });
  }
}

void JobManager::OnExit(int64_t id, const ExitInfo& exit) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    return;
  }
  Active& active = it->second;
  CancelTimers(active);
  queues_.Finished(active.job.spec.queue);
  if (active.launched && observer_.attempt_ended) {
    observer_.attempt_ended(active.job,
                            std::max(Duration(0), std::chrono::duration_cast<Duration>(
                                                      exit.ended - active.attempt_started)));
  }
  active.launched = false;
  Conclude(active, exit);
  Dispatch();
}

void JobManager::Conclude(Active& active, const ExitInfo& exit) {
  const JobOutcome outcome =
      DecideOutcome(active.job, exit, active.timed_out, options_.classifier, random_);
  active.job.last_exit = ToJobExit(exit, active.timed_out);
  active.job.error_category = outcome.error_category;
  if (outcome.event == JobEvent::kSucceeded) {
    ++stats_.succeeded;
  }
  if (outcome.event == JobEvent::kFailedRetryable) {
    ++stats_.retried;
    ArmBackoff(active, outcome.retry_delay);
    active.job.not_before_ms =
        ToUnixMillis(clock_.WallNow()) +
        std::chrono::duration_cast<std::chrono::milliseconds>(outcome.retry_delay).count();
  }
  Apply(active, outcome.event, outcome.message);
}

// Moves the job to its next state and stores it; a job that reached a final state leaves
// memory, and its shim's records go once that is durable. If storing fails, they stay where a
// later daemon finds them (the runner writes an exit it held in memory when its connection
// ends).
void JobManager::Apply(Active& active, JobEvent event, std::string message) {
  const int64_t id = active.job.id;
  active.job.state = Next(active.job.state, event);
  active.job.message = std::move(message);
  const bool terminal = IsTerminal(active.job.state);
  Persist(active, [this, id](const Status& stored) {
    // Not stored: the record stays (on disk, or in the runner's memory until its connection
    // ends, when it writes it) for a later daemon.
    if (stored.ok() && !active_.contains(id)) {
      launcher_.DiscardRecords(ShimName(id));
    }
  });
  if (terminal) {
    if (observer_.ended) {
      observer_.ended(active.job);
    }
    active_.erase(id);
  }
}

void JobManager::ArmBackoff(Active& active, Duration delay) {
  const int64_t id = active.job.id;
  active.backoff_timer =
      scheduler_.ScheduleAt(clock_.MonotonicNow() + delay, [this, id] { OnBackoffOver(id); });
}

void JobManager::OnBackoffOver(int64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    return;
  }
  Active& active = it->second;
  active.backoff_timer.reset();
  active.job.state = Next(active.job.state, JobEvent::kBackoffOver);
  active.job.message = "queued for attempt " + std::to_string(active.job.attempt + 1);
  // Queued only once this is committed, and so (commits resolve in order) the failed
  // attempt's outcome too: the next attempt's start discards that attempt's exit record
  // (the runner forgets it), which must not happen while its outcome is still in flight.
  active.requeue_pending = true;
  Persist(active, [this, id](const Status&) { OnRequeueStored(id); });
}

// A failed commit queues the job all the same, as before the outcome was ordered here: the
// next attempt's "running" then says whether the store writes at all.
void JobManager::OnRequeueStored(int64_t id) {
  auto it = active_.find(id);
  if (it == active_.end() || !it->second.requeue_pending) {
    return;  // cancelled meanwhile (and maybe queued again by a retry, which pushed it)
  }
  it->second.requeue_pending = false;
  queues_.Push(it->second.job.spec.queue, it->second.job.spec.priority, id);
  Dispatch();
}

void JobManager::CancelTimers(Active& active) {
  for (std::optional<TimerId>* timer :
       {&active.timeout_timer, &active.kill_timer, &active.backoff_timer}) {
    if (*timer) {
      scheduler_.Cancel(**timer);
      timer->reset();
    }
  }
}

void JobManager::Persist(Active& active, std::function<void(const Status&)> then) {
  const int64_t id = active.job.id;
  const std::optional<JobState> stored_state = active.saved_state;
  active.saved_state = active.job.state;
  store_.SaveThen(active.job, stored_state,
                  waiter_.Relay([this, id, then = std::move(then)](const Status& stored) {
                    if (!stored.ok()) {
                      ++stats_.store_errors;
                      options_.warn("job " + std::to_string(id) +
                                    ": state change not stored: " + stored.error().message());
                    }
                    if (then) {
                      then(stored);
                    }
                  }));
}

Result<JobRecord> JobManager::Cancel(int64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) {
    auto stored = store_.Get(id);
    if (!stored.ok()) {
      return stored.error();
    }
    return ConflictError("job " + std::to_string(id) + " is already " +
                         std::string(JobStateName(stored->state)));
  }
  Active& active = it->second;
  if (active.job.state == JobState::kQueued) {
    queues_.Remove(active.job.spec.queue, active.job.spec.priority, id);
  }
  if (active.job.state != JobState::kRunning) {
    CancelTimers(active);
    JobRecord copy = active.job;
    Apply(active, JobEvent::kCancelled, "cancelled while " + std::string(JobStateName(copy.state)));
    copy.state = JobState::kCancelled;
    return copy;
  }
  active.job.cancel_requested = true;
  active.job.message = "cancel requested";
  Persist(active);
  if (active.launched) {
    StopGracefully(active);
  }
  return active.job;
}

Result<JobRecord> JobManager::Retry(int64_t id) {
  if (auto it = active_.find(id); it != active_.end()) {
    return ConflictError("job " + std::to_string(id) + " is " +
                         std::string(JobStateName(it->second.job.state)) +
                         "; only a failed, exhausted, cancelled or interrupted job can be retried");
  }
  auto stored = store_.Get(id);
  if (!stored.ok()) {
    return stored.error();
  }
  auto next = NextJobState(stored->state, JobEvent::kManualRetry);
  if (!next.ok()) {
    return ConflictError("job " + std::to_string(id) + " is " +
                         std::string(JobStateName(stored->state)) +
                         "; only a failed, exhausted, cancelled or interrupted job can be retried");
  }
  JobRecord job = std::move(*stored);
  const JobState stored_state = job.state;
  job.state = *next;
  job.attempt = 0;
  job.cancel_requested = false;
  job.message = "queued again by request";
  if (!queues_.Has(job.spec.queue)) {
    job.spec.queue = std::string(kDefaultQueue);
  }
  Persist(active_[id] = Active{.job = job, .saved_state = stored_state});
  queues_.Push(job.spec.queue, job.spec.priority, id);
  Dispatch();
  return job;
}

void JobManager::Stop() { stopping_ = true; }

}  // namespace rebound::jobs
