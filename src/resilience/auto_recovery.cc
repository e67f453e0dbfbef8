#include "resilience/auto_recovery.h"

#include <array>
#include <cmath>

#include "base/duration.h"

namespace rebound::resilience {

std::string_view RecoveryPhaseName(RecoveryPhase phase) {
  static constexpr std::array<std::string_view, 4> kNames = {
      "idle", "recovering", "waiting_to_retry", "needs_manual_intervention"};
  return kNames[static_cast<size_t>(phase)];
}

std::string_view RecoveryActionName(RecoveryAction action) {
  static constexpr std::array<std::string_view, 5> kNames = {
      "start_attempt", "scheduled", "already_recovering", "needs_manual_intervention", "recovered"};
  return kNames[static_cast<size_t>(action)];
}

Status ValidateAutoRecoveryConfig(const AutoRecoveryConfig& config) {
  if (config.cooldown < Duration::zero()) {
    return ValidationError("recovery.cooldown must not be negative (got " +
                           FormatDuration(config.cooldown) + ")");
  }
  if (config.max_attempts < 1) {
    return ValidationError("recovery.max_attempts must be at least 1 (got " +
                           std::to_string(config.max_attempts) + ")");
  }
  if (!(config.backoff >= 1.0) || !std::isfinite(config.backoff)) {
    return ValidationError("recovery.backoff must be a finite number >= 1.0 (got " +
                           std::to_string(config.backoff) + ")");
  }
  if (config.attempt_delay < Duration::zero()) {
    return ValidationError("recovery.attempt_delay must not be negative (got " +
                           FormatDuration(config.attempt_delay) + ")");
  }
  return OkStatus();
}

Result<AutoRecoveryController> AutoRecoveryController::Create(AutoRecoveryConfig config,
                                                              const Clock& clock) {
  REBOUND_RETURN_IF_ERROR(ValidateAutoRecoveryConfig(config));
  return AutoRecoveryController(config, clock);
}

RecoveryDecision AutoRecoveryController::Trigger(TriggerSource source) {
  const bool manual = source == TriggerSource::kManual;
  if (phase_ == RecoveryPhase::kRecovering || phase_ == RecoveryPhase::kWaitingToRetry) {
    return {RecoveryAction::kAlreadyRecovering, attempt_};
  }
  if (manual) {
    return StartAttempt(1, true);
  }
  if (phase_ == RecoveryPhase::kNeedsManualIntervention) {
    return {RecoveryAction::kNeedsManualIntervention, attempt_};
  }
  if (cooldown_until_ && clock_->MonotonicNow() < *cooldown_until_) {
    deferred_trigger_ = true;
    return {RecoveryAction::kScheduled, 1, *cooldown_until_};
  }
  return StartAttempt(1, false);
}

RecoveryDecision AutoRecoveryController::StartAttempt(int attempt, bool manual) {
  phase_ = RecoveryPhase::kRecovering;
  attempt_ = attempt;
  current_manual_ = manual;
  current_started_ = clock_->WallNow();
  next_attempt_at_.reset();
  deferred_trigger_ = false;
  ++attempts_total_;
  return {RecoveryAction::kStartAttempt, attempt};
}

Duration AutoRecoveryController::DelayAfter(int failed_attempt) const {
  const double nanos = static_cast<double>(config_.attempt_delay.count()) *
                       std::pow(config_.backoff, failed_attempt);
  const double cap = static_cast<double>(std::chrono::hours(24).count()) * 1e9;
  return Duration(static_cast<int64_t>(std::min(nanos, cap)));
}

RecoveryDecision AutoRecoveryController::RecordOutcome(bool success, std::string message) {
  const MonoTime now = clock_->MonotonicNow();
  history_.push_back({attempt_, current_manual_, current_started_, clock_->WallNow(), success,
                      std::move(message)});
  while (history_.size() > config_.history_size) {
    history_.pop_front();
  }
  if (success) {
    ++successes_total_;
    phase_ = RecoveryPhase::kIdle;
    cooldown_until_ = now + config_.cooldown;
    return {RecoveryAction::kRecovered, attempt_};
  }
  if (attempt_ >= config_.max_attempts) {
    ++exhausted_total_;
    phase_ = RecoveryPhase::kNeedsManualIntervention;
    cooldown_until_ = now + config_.cooldown;
    return {RecoveryAction::kNeedsManualIntervention, attempt_};
  }
  phase_ = RecoveryPhase::kWaitingToRetry;
  next_attempt_at_ = now + DelayAfter(attempt_);
  return {RecoveryAction::kScheduled, attempt_ + 1, *next_attempt_at_};
}

std::optional<MonoTime> AutoRecoveryController::NextWakeup() const {
  if (phase_ == RecoveryPhase::kWaitingToRetry) {
    return next_attempt_at_;
  }
  if (phase_ == RecoveryPhase::kIdle && deferred_trigger_) {
    return cooldown_until_;
  }
  return std::nullopt;
}

std::optional<RecoveryDecision> AutoRecoveryController::Poll() {
  const std::optional<MonoTime> due = NextWakeup();
  if (!due || clock_->MonotonicNow() < *due) {
    return std::nullopt;
  }
  if (phase_ == RecoveryPhase::kWaitingToRetry) {
    return StartAttempt(attempt_ + 1, current_manual_);
  }
  return StartAttempt(1, false);
}

void AutoRecoveryController::Reset() {
  phase_ = RecoveryPhase::kIdle;
  attempt_ = 0;
  next_attempt_at_.reset();
  cooldown_until_.reset();
  deferred_trigger_ = false;
}

}  // namespace rebound::resilience
