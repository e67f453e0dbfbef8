#pragma once

// AutoRecoveryController: when to run a service's recovery, how often, and when to stop
// and call a person. Pure logic: the caller runs the recovery and schedules wake-ups.
//
//   AutoRecoveryController recovery(AutoRecoveryConfig{}, clock);   // 60s, 3 attempts, x2
//   auto d = recovery.Trigger(TriggerSource::kAutomatic);   // breaker opened
//   if (d.action == RecoveryAction::kStartAttempt) RunRecovery(d.attempt);
//   ... recovery finished:
//   auto next = recovery.RecordOutcome(false, "connection refused");
//   // next.action == kScheduled: call Poll() at next.at; Poll() starts attempt 2.
//
// A recovery cycle is up to max_attempts attempts. After a failed attempt n the next one
// waits attempt_delay * backoff^n (1s * 2^1 = 2s after the first, as users of this pattern
// expect). A success ends the cycle; an exhausted cycle leaves the controller in
// needs_manual_intervention, where only a manual trigger or Reset() starts again.
// Between cycles there is a cooldown: an automatic trigger during it is deferred to its end.
// Manual triggers skip the cooldown.
//
// Not thread-safe (owned by the engine's reactor thread). The clock must outlive it.

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::resilience {

struct AutoRecoveryConfig {
  Duration cooldown = std::chrono::seconds(60);
  int max_attempts = 3;
  double backoff = 2.0;
  Duration attempt_delay = std::chrono::seconds(1);
  size_t history_size = 20;
};

Status ValidateAutoRecoveryConfig(const AutoRecoveryConfig& config);

enum class RecoveryPhase { kIdle, kRecovering, kWaitingToRetry, kNeedsManualIntervention };
// "idle", "recovering", "waiting_to_retry", "needs_manual_intervention".
std::string_view RecoveryPhaseName(RecoveryPhase phase);

enum class TriggerSource { kAutomatic, kManual };

enum class RecoveryAction {
  kStartAttempt,       // run recovery attempt `attempt` now
  kScheduled,          // nothing now; call Poll() at `at`
  kAlreadyRecovering,  // a cycle is running; the trigger joins it
  kNeedsManualIntervention,
  kRecovered,  // the cycle succeeded
};
std::string_view RecoveryActionName(RecoveryAction action);

struct RecoveryDecision {
  RecoveryAction action;
  int attempt = 0;  // for kStartAttempt, and the attempt a kScheduled wake-up will start
  MonoTime at{};    // for kScheduled
};

struct RecoveryAttemptRecord {
  int attempt;
  bool manual;
  WallTime started;
  WallTime finished;
  bool success;
  std::string message;
};

class AutoRecoveryController {
 public:
  static Result<AutoRecoveryController> Create(AutoRecoveryConfig config, const Clock& clock);

  RecoveryDecision Trigger(TriggerSource source);
  // REQUIRES: phase() == kRecovering.
  RecoveryDecision RecordOutcome(bool success, std::string message);
  // Starts a scheduled attempt or deferred trigger once it is due; nullopt otherwise.
  std::optional<RecoveryDecision> Poll();
  // When Poll() next has something to do, if ever.
  std::optional<MonoTime> NextWakeup() const;
  // Forget attempts and cooldown: back to idle.
  void Reset();

  RecoveryPhase phase() const { return phase_; }
  int attempt() const { return attempt_; }
  int max_attempts() const { return config_.max_attempts; }
  std::optional<MonoTime> cooldown_until() const { return cooldown_until_; }
  const std::deque<RecoveryAttemptRecord>& history() const { return history_; }
  const AutoRecoveryConfig& config() const { return config_; }

  int64_t attempts_total() const { return attempts_total_; }
  int64_t successes_total() const { return successes_total_; }
  int64_t exhausted_total() const { return exhausted_total_; }

 private:
  AutoRecoveryController(AutoRecoveryConfig config, const Clock& clock)
      : config_(config), clock_(&clock) {}

  RecoveryDecision StartAttempt(int attempt, bool manual);
  Duration DelayAfter(int failed_attempt) const;

  AutoRecoveryConfig config_;
  const Clock* clock_;
  RecoveryPhase phase_ = RecoveryPhase::kIdle;
  int attempt_ = 0;
  bool current_manual_ = false;
  WallTime current_started_{};
  std::optional<MonoTime> next_attempt_at_;  // kWaitingToRetry
  std::optional<MonoTime> cooldown_until_;   // after a cycle ended
  bool deferred_trigger_ = false;            // automatic trigger during the cooldown
  std::deque<RecoveryAttemptRecord> history_;
  int64_t attempts_total_ = 0;
  int64_t successes_total_ = 0;
  int64_t exhausted_total_ = 0;
};

}  // namespace rebound::resilience
