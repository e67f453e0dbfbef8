#include "jobs/job.h"

#include <array>

#include "base/duration.h"

namespace rebound::jobs {
namespace {

using S = JobState;
using E = JobEvent;
using nlohmann::json;

constexpr std::array<std::string_view, kJobStateCount> kStateNames = {
    "queued", "running",   "retrying",  "succeeded",
    "failed", "exhausted", "cancelled", "interrupted"};

constexpr std::array<std::string_view, 9> kEventNames = {
    "started",      "succeeded", "failed_retryable", "failed_permanently", "gave_up",
    "backoff_over", "cancelled", "interrupted",      "manual_retry"};

std::optional<JobState> Transition(JobState from, JobEvent event) {
  switch (from) {
    case S::kQueued:
      if (event == E::kStarted) return S::kRunning;
      if (event == E::kCancelled) return S::kCancelled;
      break;
    case S::kRunning:
      if (event == E::kStarted) return S::kRunning;  // re-adopted after a daemon restart
      if (event == E::kSucceeded) return S::kSucceeded;
      if (event == E::kFailedRetryable) return S::kRetrying;
      if (event == E::kFailedPermanently) return S::kFailed;
      if (event == E::kGaveUp) return S::kExhausted;
      if (event == E::kCancelled) return S::kCancelled;
      if (event == E::kInterrupted) return S::kInterrupted;
      break;
    case S::kRetrying:
      if (event == E::kBackoffOver) return S::kQueued;
      if (event == E::kCancelled) return S::kCancelled;
      break;
    case S::kFailed:
    case S::kExhausted:
    case S::kCancelled:
    case S::kInterrupted:
      if (event == E::kManualRetry) return S::kQueued;
      break;
    case S::kSucceeded:
      break;  // final: never run again
  }
  return std::nullopt;
}

json OptionalInt(const std::optional<int>& value) { return value ? json(*value) : json(nullptr); }

std::optional<int> IntOrNull(const json& json, const char* key) {
  if (!json.contains(key) || !json[key].is_number_integer()) {
    return std::nullopt;
  }
  return json[key].get<int>();
}

int64_t Millis(Duration duration) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

json BackoffToJson(const resilience::BackoffConfig& backoff) {
  return {{"strategy", resilience::BackoffStrategyName(backoff.strategy)},
          {"initial_ms", Millis(backoff.initial)},
          {"increment_ms", Millis(backoff.increment)},
          {"factor", backoff.factor},
          {"max_ms", Millis(backoff.max)},
          {"jitter", resilience::JitterName(backoff.jitter)}};
}

Result<resilience::BackoffConfig> BackoffFromJson(const json& in) {
  resilience::BackoffConfig backoff;
  auto strategy = resilience::ParseBackoffStrategy(in.value("strategy", "exponential"));
  auto jitter = resilience::ParseJitter(in.value("jitter", "full"));
  if (!strategy.ok() || !jitter.ok()) {
    return CorruptionError("stored job backoff is unreadable: " + in.dump());
  }
  backoff.strategy = *strategy;
  backoff.jitter = *jitter;
  backoff.initial = std::chrono::milliseconds(in.value("initial_ms", int64_t{1000}));
  backoff.increment = std::chrono::milliseconds(in.value("increment_ms", int64_t{100}));
  backoff.factor = in.value("factor", 2.0);
  backoff.max = std::chrono::milliseconds(in.value("max_ms", int64_t{60000}));
  return backoff;
}

}  // namespace

std::string_view JobStateName(JobState state) { return kStateNames[static_cast<size_t>(state)]; }

Result<JobState> ParseJobState(std::string_view name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (kStateNames[i] == name) {
      return static_cast<JobState>(i);
    }
  }
  std::string expected;
  for (std::string_view known : kStateNames) {
    expected += (expected.empty() ? "" : ", ") + std::string(known);
  }
  return ValidationError("unknown job state \"" + std::string(name) +
                         "\"; expected one of: " + expected);
}

bool IsTerminal(JobState state) {
  return state != S::kQueued && state != S::kRunning && state != S::kRetrying;
}

Result<JobState> NextJobState(JobState from, JobEvent event) {
  if (auto next = Transition(from, event)) {
    return *next;
  }
  return ConflictError("a " + std::string(JobStateName(from)) + " job cannot take event " +
                       std::string(kEventNames[static_cast<size_t>(event)]));
}

std::string ShimName(int64_t id) { return "job:" + std::to_string(id); }

json JobSpecToJson(const JobSpec& spec) {
  return {{"command", spec.command},
          {"queue", spec.queue},
          {"key", spec.key ? json(*spec.key) : json(nullptr)},
          {"priority", spec.priority},
          {"retry",
           {{"max_attempts", spec.retry.max_attempts},
            {"retry_exit_codes", spec.retry.retry_exit_codes},
            {"fatal_exit_codes", spec.retry.fatal_exit_codes},
            {"backoff", BackoffToJson(spec.retry.backoff)}}},
          {"timeout_ms", Millis(spec.timeout)},
          {"stop_timeout_ms", Millis(spec.stop_timeout)},
          {"idempotent", spec.idempotent},
          {"cwd", spec.cwd},
          {"env", spec.env}};
}

Result<JobSpec> JobSpecFromJson(const json& in) {
  if (!in.is_object() || !in.contains("command") || !in["command"].is_array()) {
    return CorruptionError("stored job spec is unreadable");
  }
  JobSpec spec;
  spec.command = in["command"].get<std::vector<std::string>>();
  spec.queue = in.value("queue", std::string(kDefaultQueue));
  if (in.contains("key") && in["key"].is_string()) {
    spec.key = in["key"].get<std::string>();
  }
  spec.priority = in.value("priority", 0);
  const json retry = in.value("retry", json::object());
  spec.retry.max_attempts = retry.value("max_attempts", 3);
  spec.retry.retry_exit_codes = retry.value("retry_exit_codes", std::vector<int>{});
  spec.retry.fatal_exit_codes = retry.value("fatal_exit_codes", std::vector<int>{});
  auto backoff = BackoffFromJson(retry.value("backoff", json::object()));
  if (!backoff.ok()) {
    return backoff.error();
  }
  spec.retry.backoff = *backoff;
  spec.timeout = std::chrono::milliseconds(in.value("timeout_ms", int64_t{0}));
  spec.stop_timeout = std::chrono::milliseconds(in.value("stop_timeout_ms", int64_t{10000}));
  spec.idempotent = in.value("idempotent", true);
  spec.cwd = in.value("cwd", "");
  spec.env = in.value("env", std::map<std::string, std::string>{});
  return spec;
}

json JobExitToJson(const JobExit& exit) {
  return {{"code", OptionalInt(exit.code)},
          {"signal", OptionalInt(exit.signal)},
          {"timed_out", exit.timed_out},
          {"description", exit.description}};
}

JobExit JobExitFromJson(const json& in) {
  return JobExit{.code = IntOrNull(in, "code"),
                 .signal = IntOrNull(in, "signal"),
                 .timed_out = in.value("timed_out", false),
                 .description = in.value("description", "")};
}

json JobToJson(const JobRecord& job) {
  json out = {{"id", job.id},
              {"state", JobStateName(job.state)},
              {"queue", job.spec.queue},
              {"command", job.spec.command},
              {"key", job.spec.key ? json(*job.spec.key) : json(nullptr)},
              {"priority", job.spec.priority},
              {"attempt", job.attempt},
              {"max_attempts", job.spec.retry.max_attempts},
              {"retry_exit_codes", job.spec.retry.retry_exit_codes},
              {"fatal_exit_codes", job.spec.retry.fatal_exit_codes},
              {"timeout", FormatDuration(job.spec.timeout)},
              {"idempotent", job.spec.idempotent},
              {"cancel_requested", job.cancel_requested},
              {"message", job.message},
              {"error_category", job.error_category ? json(*job.error_category) : json(nullptr)},
              {"last_exit", job.last_exit ? JobExitToJson(*job.last_exit) : json(nullptr)},
              {"created_at_ms", job.created_at_ms},
              {"updated_at_ms", job.updated_at_ms}};
  if (job.state == S::kRetrying) {
    out["retry_at_ms"] = job.not_before_ms;
  }
  return out;
}

}  // namespace rebound::jobs
