#pragma once

// Job: one durable unit of work (a command), its state machine and its JSON forms.
//
//   JobSpec spec{.command = {"./import", "--day", "2026-11-25"}, .queue = "imports"};
//   JobRecord job{.id = 7, .spec = spec};                       // state kQueued
//   auto next = NextJobState(job.state, JobEvent::kStarted);    // kRunning
//   nlohmann::json wire = JobToJson(job);                       // docs/jobs.md
//
// States (docs/jobs.md has the diagram):
//   queued -> running -> succeeded | failed | retrying | exhausted | cancelled | interrupted
//   retrying -> queued (backoff over) | cancelled
//   failed | exhausted | cancelled | interrupted -> queued (a person asked to retry)
// succeeded is final: a job whose success is recorded never runs again.
//
// Plain values and pure functions; thread-safe.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "resilience/backoff.h"

namespace rebound::jobs {

enum class JobState {
  kQueued,
  kRunning,
  kRetrying,
  kSucceeded,
  kFailed,
  kExhausted,
  kCancelled,
  kInterrupted,
};

enum class JobEvent {
  kStarted,          // a dispatcher took it (or a live shim was re-adopted)
  kSucceeded,        // exit code 0
  kFailedRetryable,  // classified retryable and attempts remain
  kFailedPermanently,
  kGaveUp,       // retryable, but max_attempts reached
  kBackoffOver,  // retrying -> queued
  kCancelled,
  kInterrupted,  // its shim vanished without a record and the job is not idempotent
  kManualRetry,  // `rebound jobs retry ID`
};

inline constexpr int kJobStateCount = 8;

std::string_view JobStateName(JobState state);
Result<JobState> ParseJobState(std::string_view name);
bool IsTerminal(JobState state);  // nothing happens to it unless a person asks
// The state after `event`, or a conflict Error naming both.
Result<JobState> NextJobState(JobState from, JobEvent event);

inline constexpr std::string_view kDefaultQueue = "default";

struct JobRetry {
  int max_attempts = 3;  // the first attempt included
  // The job's own classifier rules, before the built-in ones: these exit codes are retried,
  // or never retried, whatever the defaults say (e.g. 3 from a tool that means "busy").
  std::vector<int> retry_exit_codes = {};
  std::vector<int> fatal_exit_codes = {};
  resilience::BackoffConfig backoff = {.strategy = resilience::BackoffStrategy::kExponential,
                                       .initial = std::chrono::seconds(1),
                                       .factor = 2.0,
                                       .max = std::chrono::seconds(60),
                                       .jitter = resilience::Jitter::kFull};
};

struct JobSpec {
  std::vector<std::string> command;
  std::string queue = std::string(kDefaultQueue);
  std::optional<std::string> key = {};  // idempotency key
  int priority = 0;                     // higher runs first; FIFO among equals
  JobRetry retry = {};
  Duration timeout{0};                               // per attempt; 0: none
  Duration stop_timeout = std::chrono::seconds(10);  // SIGTERM, then SIGKILL after this
  // Safe to run again when a crash leaves its outcome unknown; else it is marked interrupted.
  bool idempotent = true;
  std::string cwd = {};
  std::map<std::string, std::string> env = {};
};

struct JobExit {
  std::optional<int> code = {};
  std::optional<int> signal = {};
  bool timed_out = false;
  std::string description = {};
};

struct JobRecord {
  int64_t id = 0;
  JobSpec spec = {};
  JobState state = JobState::kQueued;
  int attempt = 0;  // attempts started so far
  bool cancel_requested = false;
  std::optional<JobExit> last_exit = {};
  std::string message = {};  // why it is in this state, for people
  std::optional<std::string> error_category = {};
  int64_t not_before_ms = 0;  // retrying: when the backoff ends
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// The name its shim runs under: "job:ID". Service names cannot contain ':', so job shims
// never collide with service shims in the run directory.
std::string ShimName(int64_t id);

nlohmann::json JobSpecToJson(const JobSpec& spec);
// REQUIRES: json from JobSpecToJson (what the store wrote); unknown fields are ignored.
Result<JobSpec> JobSpecFromJson(const nlohmann::json& json);
nlohmann::json JobExitToJson(const JobExit& exit);
JobExit JobExitFromJson(const nlohmann::json& json);
// The API form: {"id", "state", "queue", "command", "attempt", ...} (docs/jobs.md).
nlohmann::json JobToJson(const JobRecord& job);

}  // namespace rebound::jobs
