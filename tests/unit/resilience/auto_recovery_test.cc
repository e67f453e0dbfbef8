#include "resilience/auto_recovery.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

class AutoRecoveryTest : public ::testing::Test {
 protected:
  AutoRecoveryController Make(AutoRecoveryConfig config = {}) {
    auto controller = AutoRecoveryController::Create(config, clock_);
    EXPECT_TRUE(controller.ok());
    return *controller;
  }
  ManualClock clock_;
};

TEST_F(AutoRecoveryTest, DefaultsAreSixtySecondsThreeAttemptsDoubleBackoff) {
  AutoRecoveryConfig config;
  EXPECT_EQ(config.cooldown, 60s);
  EXPECT_EQ(config.max_attempts, 3);
  EXPECT_DOUBLE_EQ(config.backoff, 2.0);
}

TEST_F(AutoRecoveryTest, FirstAttemptStartsImmediatelyAndSuccessEndsTheCycle) {
  auto recovery = Make();
  RecoveryDecision d = recovery.Trigger(TriggerSource::kAutomatic);
  EXPECT_EQ(d.action, RecoveryAction::kStartAttempt);
  EXPECT_EQ(d.attempt, 1);
  EXPECT_EQ(recovery.phase(), RecoveryPhase::kRecovering);
  EXPECT_EQ(recovery.Trigger(TriggerSource::kAutomatic).action, RecoveryAction::kAlreadyRecovering);
  d = recovery.RecordOutcome(true, "model server connection recovered");
  EXPECT_EQ(d.action, RecoveryAction::kRecovered);
  EXPECT_EQ(recovery.phase(), RecoveryPhase::kIdle);
  ASSERT_EQ(recovery.history().size(), 1u);
  EXPECT_TRUE(recovery.history()[0].success);
  EXPECT_EQ(recovery.successes_total(), 1);
}

TEST_F(AutoRecoveryTest, FailedAttemptsBackOffTwoThenFourSecondsThenNeedManualIntervention) {
  auto recovery = Make();
  const MonoTime start = clock_.MonotonicNow();
  ASSERT_EQ(recovery.Trigger(TriggerSource::kAutomatic).action, RecoveryAction::kStartAttempt);
  RecoveryDecision d = recovery.RecordOutcome(false, "Connection refused");
  EXPECT_EQ(d.action, RecoveryAction::kScheduled);
  EXPECT_EQ(d.attempt, 2);
  EXPECT_EQ(d.at - start, 2s);
  EXPECT_EQ(recovery.NextWakeup(), d.at);
  clock_.AdvanceBy(1999ms);
  EXPECT_FALSE(recovery.Poll().has_value());
  clock_.AdvanceBy(1ms);
  auto started = recovery.Poll();
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->attempt, 2);
  d = recovery.RecordOutcome(false, "Connection refused");
  EXPECT_EQ(d.at - clock_.MonotonicNow(), 4s);
  clock_.AdvanceBy(4s);
  EXPECT_EQ(recovery.Poll()->attempt, 3);
  d = recovery.RecordOutcome(false, "Connection refused");
  EXPECT_EQ(d.action, RecoveryAction::kNeedsManualIntervention);
  EXPECT_EQ(recovery.phase(), RecoveryPhase::kNeedsManualIntervention);
  EXPECT_EQ(recovery.exhausted_total(), 1);
  EXPECT_EQ(recovery.attempts_total(), 3);
  EXPECT_EQ(recovery.history().size(), 3u);
  // Automatic triggers are now ignored, however long we wait.
  clock_.AdvanceBy(1h);
  EXPECT_EQ(recovery.Trigger(TriggerSource::kAutomatic).action,
            RecoveryAction::kNeedsManualIntervention);
  EXPECT_FALSE(recovery.NextWakeup().has_value());
}

TEST_F(AutoRecoveryTest, ManualTriggerStartsAFreshCycleEvenWhenExhausted) {
  auto recovery = Make({.max_attempts = 1});
  recovery.Trigger(TriggerSource::kAutomatic);
  recovery.RecordOutcome(false, "still down");
  ASSERT_EQ(recovery.phase(), RecoveryPhase::kNeedsManualIntervention);
  RecoveryDecision d = recovery.Trigger(TriggerSource::kManual);
  EXPECT_EQ(d.action, RecoveryAction::kStartAttempt);
  EXPECT_EQ(d.attempt, 1);
  EXPECT_TRUE(recovery.history().back().manual == false);
  recovery.RecordOutcome(true, "ok");
  EXPECT_TRUE(recovery.history().back().manual);
}

TEST_F(AutoRecoveryTest, AutomaticTriggerDuringCooldownIsDeferredToItsEnd) {
  auto recovery = Make({.cooldown = 60s});
  recovery.Trigger(TriggerSource::kAutomatic);
  recovery.RecordOutcome(true, "ok");
  clock_.AdvanceBy(10s);
  RecoveryDecision d = recovery.Trigger(TriggerSource::kAutomatic);
  EXPECT_EQ(d.action, RecoveryAction::kScheduled);
  EXPECT_EQ(d.at - clock_.MonotonicNow(), 50s);
  EXPECT_EQ(recovery.NextWakeup(), d.at);
  clock_.AdvanceBy(49s);
  EXPECT_FALSE(recovery.Poll().has_value());
  clock_.AdvanceBy(1s);
  auto started = recovery.Poll();
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->attempt, 1);
}

TEST_F(AutoRecoveryTest, ManualTriggerSkipsTheCooldown) {
  auto recovery = Make();
  recovery.Trigger(TriggerSource::kAutomatic);
  recovery.RecordOutcome(true, "ok");
  EXPECT_EQ(recovery.Trigger(TriggerSource::kManual).action, RecoveryAction::kStartAttempt);
}

TEST_F(AutoRecoveryTest, ResetForgetsAttemptsAndCooldown) {
  auto recovery = Make({.max_attempts = 1});
  recovery.Trigger(TriggerSource::kAutomatic);
  recovery.RecordOutcome(false, "down");
  recovery.Reset();
  EXPECT_EQ(recovery.phase(), RecoveryPhase::kIdle);
  EXPECT_EQ(recovery.attempt(), 0);
  EXPECT_FALSE(recovery.cooldown_until().has_value());
  EXPECT_EQ(recovery.Trigger(TriggerSource::kAutomatic).action, RecoveryAction::kStartAttempt);
}

TEST_F(AutoRecoveryTest, HistoryIsBounded) {
  auto recovery = Make({.cooldown = 0s, .max_attempts = 1, .history_size = 3});
  for (int i = 0; i < 10; ++i) {
    recovery.Trigger(TriggerSource::kManual);
    recovery.RecordOutcome(i % 2 == 0, "attempt " + std::to_string(i));
  }
  ASSERT_EQ(recovery.history().size(), 3u);
  EXPECT_EQ(recovery.history().back().message, "attempt 9");
}

TEST_F(AutoRecoveryTest, RejectsBadConfig) {
  EXPECT_FALSE(AutoRecoveryController::Create({.cooldown = -1s}, clock_).ok());
  EXPECT_FALSE(AutoRecoveryController::Create({.max_attempts = 0}, clock_).ok());
  EXPECT_FALSE(AutoRecoveryController::Create({.backoff = 0.5}, clock_).ok());
  EXPECT_FALSE(AutoRecoveryController::Create({.attempt_delay = -1s}, clock_).ok());
  EXPECT_EQ(AutoRecoveryController::Create({.max_attempts = 0}, clock_).error().message(),
            "recovery.max_attempts must be at least 1 (got 0)");
}

TEST_F(AutoRecoveryTest, NamesAreStable) {
  EXPECT_EQ(RecoveryPhaseName(RecoveryPhase::kNeedsManualIntervention),
            "needs_manual_intervention");
  EXPECT_EQ(RecoveryActionName(RecoveryAction::kStartAttempt), "start_attempt");
}

}  // namespace
}  // namespace rebound::resilience
