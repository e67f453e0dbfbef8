#include "engine/recovery_coordinator.h"

#include <gtest/gtest.h>

#include <set>

#include "base/manual_clock.h"
#include "testing/manual_scheduler.h"

namespace rebound::engine {
namespace {

using namespace std::chrono_literals;

// Services whose health the test sets; every action is written down in order.
class FakeHost final : public RecoveryHost {
 public:
  bool IsHealthy(const std::string& name) const override { return healthy.count(name) > 0; }
  bool IsWanted(const std::string& name) const override { return unwanted.count(name) == 0; }
  std::vector<std::string> DependenciesOf(const std::string& name) const override {
    auto found = dependencies.find(name);
    return found == dependencies.end() ? std::vector<std::string>{} : found->second;
  }
  void ResetBreaker(const std::string& name) override { log.push_back("reset_breaker " + name); }
  void RestartService(const std::string& name) override {
    log.push_back("restart " + name);
    healthy.erase(name);
  }
  void RunCommand(const std::string& name, const std::vector<std::string>& command, Duration,
                  std::function<void(Status)> done) override {
    log.push_back("exec " + name + " " + command.front());
    pending_command = std::move(done);
  }
  void RestoreModules(const std::string& name, const std::vector<std::string>& modules,
                      WallTime failed_at, std::function<void(Status)> done) override {
    restore_failed_at = failed_at;
    log.push_back("restore_module " + name + " " + modules.front());
    pending_command = std::move(done);
  }
  void NotifyOperator(const std::string& name, const std::string& url,
                      const nlohmann::json& payload) override {
    log.push_back("notify " + name + " " + url);
    notified = payload;
  }
  void Emit(const std::string& kind, const std::string& name,
            const nlohmann::json& data) override {
    events.push_back(kind + " " + name);
    messages.push_back(data.value("message", ""));
  }

  std::set<std::string> healthy;
  std::set<std::string> unwanted;  // stopped by hand or FATAL
  std::map<std::string, std::vector<std::string>> dependencies;
  std::vector<std::string> log;
  std::vector<std::string> events;
  std::vector<std::string> messages;
  std::function<void(Status)> pending_command;
  std::optional<WallTime> restore_failed_at;
  nlohmann::json notified;
};

class RecoveryCoordinatorTest : public ::testing::Test {
 protected:
  RecoverySpec Spec() {
    RecoverySpec spec;
    spec.controller = {.cooldown = 60s, .max_attempts = 3, .backoff = 2.0,
                       .attempt_delay = 1s};
    return spec;
  }
  // The service comes back after a restart: it started, then its probe says healthy.
  void Recovered(const std::string& name) {
    coordinator_.OnServiceStarted(name);
    host_.healthy.insert(name);
    coordinator_.OnHealthChanged(name);
  }
  bool HasEvent(const std::string& event) const {
    return std::find(host_.events.begin(), host_.events.end(), event) != host_.events.end();
  }

  ManualClock clock_;
  testing::ManualScheduler scheduler_{clock_};
  FakeHost host_;
  RecoveryCoordinator coordinator_{host_, scheduler_, clock_};
};

TEST_F(RecoveryCoordinatorTest, RunsTheActionsInOrderThenVerifiesHealth) {
  ASSERT_TRUE(coordinator_.AddService("model", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("model", "circuit breaker opened");
  EXPECT_EQ(host_.log, (std::vector<std::string>{"reset_breaker model", "restart model"}));
  EXPECT_EQ(coordinator_.PhaseOf("model"), "recovering");
  EXPECT_EQ(host_.messages.front(), "Triggering recovery for: model (attempt 1/3)");
  clock_.AdvanceBy(3s);
  Recovered("model");
  EXPECT_EQ(coordinator_.PhaseOf("model"), "idle");
  EXPECT_EQ(host_.messages.back(), "Recovery successful for: model");
  ASSERT_TRUE(coordinator_.MeanTimeToRecovery());
  EXPECT_EQ(*coordinator_.MeanTimeToRecovery(), 3s);
}

TEST_F(RecoveryCoordinatorTest, HealthyBeforeTheRestartIsNotProofOfRecovery) {
  ASSERT_TRUE(coordinator_.AddService("model", Spec(), 10s).ok());
  host_.healthy.insert("model");  // the probe still says healthy; the breaker opened
  ASSERT_TRUE(coordinator_.TriggerManually("model").ok());  // the probe still said healthy
  EXPECT_EQ(coordinator_.PhaseOf("model"), "recovering");  // waits for the new process
  host_.healthy.insert("model");                           // old verdict, before it stopped
  coordinator_.OnHealthChanged("model");
  EXPECT_EQ(coordinator_.PhaseOf("model"), "recovering");
  Recovered("model");
  EXPECT_EQ(coordinator_.PhaseOf("model"), "idle");
}

TEST_F(RecoveryCoordinatorTest, FailedAttemptsBackOffThenNeedAPerson) {
  RecoverySpec spec = Spec();
  spec.notify_url = "http://127.0.0.1:9000/alerts";
  ASSERT_TRUE(coordinator_.AddService("model", spec, 10s).ok());
  coordinator_.OnFailureDetected("model", "health check failed");
  scheduler_.AdvanceBy(10s);  // not healthy within the verify timeout: attempt 1 failed
  EXPECT_EQ(coordinator_.PhaseOf("model"), "waiting_to_retry");
  EXPECT_TRUE(HasEvent("recovery_failed model"));
  EXPECT_NE(std::find(host_.messages.begin(), host_.messages.end(), "Applying backoff delay: 2s"),
            host_.messages.end());
  scheduler_.AdvanceBy(2s);  // attempt 2
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 2);
  scheduler_.AdvanceBy(10s);
  scheduler_.AdvanceBy(4s);  // attempt 3 after 4s
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 3);
  scheduler_.AdvanceBy(10s);
  EXPECT_EQ(coordinator_.PhaseOf("model"), "needs_manual_intervention");
  EXPECT_TRUE(HasEvent("needs_manual_intervention model"));
  EXPECT_EQ(host_.log.back(), "notify model http://127.0.0.1:9000/alerts");
  EXPECT_EQ(host_.notified["service"], "model");
  EXPECT_EQ(host_.notified["attempts"], 3);
  coordinator_.OnFailureDetected("model", "again");  // automatic triggers wait for a person
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 3);
  ASSERT_TRUE(coordinator_.Reset("model").ok());
  EXPECT_EQ(coordinator_.PhaseOf("model"), "idle");
}

TEST_F(RecoveryCoordinatorTest, ATriggerDuringTheCooldownWaitsForItsEnd) {
  ASSERT_TRUE(coordinator_.AddService("model", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  Recovered("model");
  host_.healthy.erase("model");
  clock_.AdvanceBy(20s);
  coordinator_.OnFailureDetected("model", "again");
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 1);
  EXPECT_TRUE(HasEvent("recovery_deferred model"));
  scheduler_.AdvanceBy(40s);  // the cooldown ends
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 2);
}

TEST_F(RecoveryCoordinatorTest, ADeferredTriggerForAServiceHealthyAgainDoesNothing) {
  ASSERT_TRUE(coordinator_.AddService("model", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  Recovered("model");
  coordinator_.OnFailureDetected("model", "a blip");
  scheduler_.AdvanceBy(60s);  // healthy by the end of the cooldown
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart model"), 1);
  EXPECT_EQ(coordinator_.PhaseOf("model"), "idle");
}

TEST_F(RecoveryCoordinatorTest, CascadeRecoversDependenciesFirst) {
  host_.dependencies["api"] = {"db"};
  ASSERT_TRUE(coordinator_.AddService("db", Spec(), 10s).ok());
  ASSERT_TRUE(coordinator_.AddService("api", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("api", "health check failed");  // api first noticed...
  coordinator_.OnFailureDetected("db", "health check failed");   // ...but db is the cause
  EXPECT_EQ(host_.log, (std::vector<std::string>{"reset_breaker db", "restart db"}));
  EXPECT_TRUE(HasEvent("recovery_waiting api"));
  Recovered("db");
  EXPECT_EQ(host_.log, (std::vector<std::string>{"reset_breaker db", "restart db",
                                                 "reset_breaker api", "restart api"}));
  Recovered("api");
  EXPECT_EQ(coordinator_.PhaseOf("api"), "idle");
}

TEST_F(RecoveryCoordinatorTest, ExecActionRunsBetweenTheOthersAndItsFailureFailsTheAttempt) {
  RecoverySpec spec = Spec();
  spec.actions = {RecoveryStep::kExec, RecoveryStep::kRestart};
  spec.exec = {"./flush-cache"};
  ASSERT_TRUE(coordinator_.AddService("model", spec, 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  EXPECT_EQ(host_.log, (std::vector<std::string>{"exec model ./flush-cache"}));
  host_.pending_command(UnknownError("exited with code 3"));
  EXPECT_EQ(coordinator_.PhaseOf("model"), "waiting_to_retry");
  EXPECT_EQ(host_.messages.back(), "Applying backoff delay: 2s");
  scheduler_.AdvanceBy(2s);
  host_.pending_command(OkStatus());
  EXPECT_EQ(host_.log.back(), "restart model");
}

TEST_F(RecoveryCoordinatorTest, RestoreModuleActionRunsInOrderAndItsFailureFailsTheAttempt) {
  RecoverySpec spec = Spec();
  spec.actions = {RecoveryStep::kRestoreModule, RecoveryStep::kRestart};
  spec.restore_modules = {"llm"};
  ASSERT_TRUE(coordinator_.AddService("model", spec, 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  EXPECT_EQ(host_.log, (std::vector<std::string>{"restore_module model llm"}));
  ASSERT_TRUE(host_.restore_failed_at.has_value());
  const WallTime detected = *host_.restore_failed_at;
  host_.pending_command(NotFoundError("the newest snapshot has no state for it"));
  EXPECT_EQ(coordinator_.PhaseOf("model"), "waiting_to_retry");
  EXPECT_NE(std::find(host_.messages.begin(), host_.messages.end(),
                      "Recovery failed for: model: restore_module action: the newest snapshot "
                      "has no state for it"),
            host_.messages.end())
      << ::testing::PrintToString(host_.messages);
  scheduler_.AdvanceBy(2s);
  // The second attempt restores from before the same failure, not from 2 s later: snapshots
  // taken since (the capture before recovery) hold the failed state.
  EXPECT_EQ(host_.restore_failed_at, detected);
  host_.pending_command(OkStatus());
  EXPECT_EQ(host_.log.back(), "restart model");
  Recovered("model");
  EXPECT_EQ(coordinator_.PhaseOf("model"), "idle");
}

TEST_F(RecoveryCoordinatorTest, AutoOffLeavesOnlyManualTriggers) {
  RecoverySpec spec = Spec();
  spec.automatic = false;
  ASSERT_TRUE(coordinator_.AddService("model", spec, 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  EXPECT_TRUE(host_.log.empty());
  EXPECT_EQ(coordinator_.TriggerManually("model").value(), true);
  EXPECT_EQ(host_.log.size(), 2u);
  EXPECT_EQ(coordinator_.TriggerManually("model").value(), false);  // joins the running one
  EXPECT_EQ(coordinator_.TriggerManually("nope").error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(coordinator_.Reset("nope").error().category(), ErrorCategory::kNotFound);
}

TEST_F(RecoveryCoordinatorTest, AServiceAPersonStoppedIsNotRecovered) {
  ASSERT_TRUE(coordinator_.AddService("db", Spec(), 10s).ok());
  host_.unwanted.insert("db");
  coordinator_.OnFailureDetected("db", "breaker opened by client reports");
  EXPECT_TRUE(host_.log.empty());
  EXPECT_EQ(coordinator_.PhaseOf("db"), "idle");
  EXPECT_EQ(coordinator_.TriggerManually("db").error().category(), ErrorCategory::kConflict);
}

TEST_F(RecoveryCoordinatorTest, ACycleIsAbandonedWhenAPersonStopsTheServiceMeanwhile) {
  ASSERT_TRUE(coordinator_.AddService("db", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("db", "x");
  scheduler_.AdvanceBy(10s);  // attempt 1 failed; attempt 2 waits 2s
  host_.unwanted.insert("db");
  scheduler_.AdvanceBy(2s);
  EXPECT_EQ(std::count(host_.log.begin(), host_.log.end(), "restart db"), 1);
  EXPECT_TRUE(HasEvent("recovery_abandoned db"));
  EXPECT_EQ(coordinator_.PhaseOf("db"), "idle");
}

TEST_F(RecoveryCoordinatorTest, WaitingForDependenciesHasADeadlineAndEndsIfHealthyMeanwhile) {
  host_.dependencies["api"] = {"db"};
  ASSERT_TRUE(coordinator_.AddService("db", Spec(), 10s).ok());
  ASSERT_TRUE(coordinator_.AddService("api", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("api", "x");
  EXPECT_TRUE(HasEvent("recovery_waiting api"));
  scheduler_.AdvanceBy(10s);  // db never came back: the attempt fails rather than hangs
  EXPECT_EQ(coordinator_.PhaseOf("api"), "waiting_to_retry");
  EXPECT_NE(std::find(host_.messages.begin(), host_.messages.end(),
                      "Recovery failed for: api: its dependencies were not healthy within "
                      "10s: db"),
            host_.messages.end());
  scheduler_.AdvanceBy(2s);  // attempt 2 waits again...
  host_.healthy.insert("api");  // ...and api comes back by itself (db's restart fixed it)
  coordinator_.OnHealthChanged("api");
  EXPECT_EQ(coordinator_.PhaseOf("api"), "idle");
  EXPECT_TRUE(host_.log.empty());  // never restarted
}

TEST_F(RecoveryCoordinatorTest, StatusJsonShowsPhaseAttemptsAndHistory) {
  ASSERT_TRUE(coordinator_.AddService("model", Spec(), 10s).ok());
  coordinator_.OnFailureDetected("model", "x");
  Recovered("model");
  const nlohmann::json status = coordinator_.StatusJson("model");
  EXPECT_EQ(status["phase"], "idle");
  EXPECT_EQ(status["attempts_total"], 1);
  EXPECT_EQ(status["successes_total"], 1);
  ASSERT_EQ(status["history"].size(), 1u);
  EXPECT_EQ(status["history"][0]["success"], true);
  EXPECT_GT(status["cooldown_remaining_seconds"].get<double>(), 59.0);
  EXPECT_TRUE(coordinator_.StatusJson("nope").is_null());
}

}  // namespace
}  // namespace rebound::engine
