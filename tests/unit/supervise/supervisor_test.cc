#include "supervise/supervisor.h"

#include <gtest/gtest.h>

#include <set>

#include "base/manual_clock.h"
#include "testing/fake_launcher.h"
#include "testing/manual_scheduler.h"

namespace rebound::supervise {
namespace {

using namespace std::chrono_literals;
using rebound::testing::FakeLauncher;
using rebound::testing::ManualScheduler;

class RecordingSink final : public EventSink {
 public:
  void Emit(const std::string& kind, const std::string& service,
            const nlohmann::json& data) override {
    events.push_back(service + ":" + kind);
    messages.push_back(data.value("message", ""));
  }
  bool Has(const std::string& event) const {
    return std::find(events.begin(), events.end(), event) != events.end();
  }
  std::vector<std::string> events;
  std::vector<std::string> messages;
};

ServiceSpec Spec(std::string name, std::vector<std::string> depends = {}) {
  ServiceSpec spec{.name = std::move(name), .command = {"/bin/true"}};
  // No jitter, so delays are exact: 100ms, 200ms, 400ms...
  spec.backoff = {.initial = 100ms, .factor = 2.0, .max = 5s};
  for (auto& dependency : depends) {
    spec.depends_on.push_back({dependency, DependencyCondition::kStarted});
  }
  return spec;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void Make(std::vector<ServiceSpec> specs) {
    supervisor_ = std::make_unique<Supervisor>(std::move(specs), launcher_, scheduler_, clock_,
                                               random_, sink_);
  }
  ServiceState State(const std::string& name) { return supervisor_->View(name)->state; }

  ManualClock clock_;
  ManualScheduler scheduler_{clock_};
  FakeLauncher launcher_{scheduler_, clock_};
  Random random_{1};
  RecordingSink sink_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorTest, StartsInDependencyOrder) {
  Make({Spec("db"), Spec("api", {"db"}), Spec("worker", {"api"})});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.launch_order(), (std::vector<std::string>{"db", "api", "worker"}));
  for (const char* name : {"db", "api", "worker"}) {
    EXPECT_EQ(State(name), ServiceState::kRunning);
  }
  EXPECT_EQ(supervisor_->View("api")->pid, launcher_.pid("api"));
}

TEST_F(SupervisorTest, RestartsACrashedServiceWithGrowingBackoff) {
  Make({Spec("api")});
  supervisor_->StartAll();
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(State("api"), ServiceState::kBackoff);
  EXPECT_TRUE(sink_.Has("api:exited"));
  scheduler_.AdvanceBy(99ms);
  EXPECT_EQ(launcher_.launches("api"), 1);
  scheduler_.AdvanceBy(1ms);
  EXPECT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(State("api"), ServiceState::kRunning);
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  scheduler_.AdvanceBy(199ms);
  EXPECT_EQ(launcher_.launches("api"), 2);
  scheduler_.AdvanceBy(1ms);
  EXPECT_EQ(launcher_.launches("api"), 3);
  EXPECT_EQ(supervisor_->View("api")->restarts, 2);
  EXPECT_EQ(supervisor_->View("api")->last_exit->exit_code, 1);
}

TEST_F(SupervisorTest, BackoffStartsOverAfterAStableRun) {
  Make({Spec("api")});
  supervisor_->StartAll();
  for (int i = 0; i < 3; ++i) {
    launcher_.Crash("api", 1);
    scheduler_.AdvanceBy(10s);
  }
  clock_.AdvanceBy(Supervisor::kStableRun);
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(supervisor_->View("api")->message, "restarting in 100ms");
}

TEST_F(SupervisorTest, RestartPoliciesDecideWhatComesBack) {
  ServiceSpec on_failure = Spec("on_failure");
  on_failure.restart = RestartPolicy::kOnFailure;
  ServiceSpec never = Spec("never");
  never.restart = RestartPolicy::kNever;
  Make({Spec("always"), on_failure, Spec("on_failure_crash"), never});
  supervisor_->StartAll();
  launcher_.Crash("always", 0);
  launcher_.Crash("on_failure", 0);
  launcher_.Crash("never", 1);
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(State("always"), ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("always"), 2);
  EXPECT_EQ(State("on_failure"), ServiceState::kExited);
  EXPECT_EQ(State("never"), ServiceState::kExited);
  EXPECT_EQ(launcher_.launches("never"), 1);
  EXPECT_NE(supervisor_->View("never")->message.find("restart policy never"), std::string::npos);
}

TEST_F(SupervisorTest, OnFailureRestartsAfterACrashOrASignal) {
  ServiceSpec spec = Spec("api");
  spec.restart = RestartPolicy::kOnFailure;
  Make({spec});
  supervisor_->StartAll();
  launcher_.ExitWithSignal("api", SIGSEGV);
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(launcher_.launches("api"), 2);
}

TEST_F(SupervisorTest, TooManyRestartsWithinTheWindowIsFatalUntilStartedByHand) {
  ServiceSpec spec = Spec("api");
  spec.intensity = {.max_restarts = 3, .within = 60s};
  Make({spec});
  supervisor_->StartAll();
  for (int i = 0; i < 3; ++i) {
    launcher_.Crash("api", 1);
    scheduler_.AdvanceBy(5s);
    ASSERT_EQ(State("api"), ServiceState::kRunning) << i;
  }
  launcher_.Crash("api", 1);
  scheduler_.AdvanceBy(5s);
  EXPECT_EQ(State("api"), ServiceState::kFatal);
  EXPECT_TRUE(sink_.Has("api:fatal"));
  EXPECT_EQ(launcher_.launches("api"), 4);
  scheduler_.AdvanceBy(1h);
  EXPECT_EQ(launcher_.launches("api"), 4);
  ASSERT_TRUE(supervisor_->Start("api").ok());
  EXPECT_EQ(State("api"), ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("api"), 5);
}

TEST_F(SupervisorTest, RestartsOutsideTheWindowDoNotCount) {
  ServiceSpec spec = Spec("api");
  spec.intensity = {.max_restarts = 2, .within = 10s};
  Make({spec});
  supervisor_->StartAll();
  for (int i = 0; i < 6; ++i) {
    launcher_.Crash("api", 1);
    scheduler_.AdvanceBy(6s);
  }
  EXPECT_EQ(State("api"), ServiceState::kRunning);
}

TEST_F(SupervisorTest, StopSendsTheStopSignalThenSigkillAfterTheTimeout) {
  ServiceSpec spec = Spec("api");
  spec.stop_signal = SIGINT;
  spec.stop_timeout = 3s;
  Make({spec});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  EXPECT_EQ(State("api"), ServiceState::kStopping);
  scheduler_.AdvanceBy(2999ms);
  EXPECT_EQ(launcher_.signals(), (std::vector<std::pair<std::string, int>>{{"api", SIGINT}}));
  scheduler_.AdvanceBy(1ms);
  EXPECT_EQ(launcher_.signals().back(), (std::pair<std::string, int>{"api", SIGKILL}));
  EXPECT_EQ(State("api"), ServiceState::kStopped);
  EXPECT_TRUE(sink_.Has("api:stop_timeout"));
  scheduler_.AdvanceBy(1h);
  EXPECT_EQ(launcher_.launches("api"), 1);  // a requested stop is not restarted
}

TEST_F(SupervisorTest, StopAllGoesInReverseDependencyOrderWaitingForEachExit) {
  Make({Spec("db"), Spec("api", {"db"}), Spec("worker", {"api"})});
  supervisor_->StartAll();
  bool done = false;
  supervisor_->StopAll([&] { done = true; });
  EXPECT_EQ(launcher_.signals(), (std::vector<std::pair<std::string, int>>{{"worker", SIGTERM}}));
  scheduler_.RunDue();  // worker exits -> api is asked
  scheduler_.RunDue();  // api exits -> db is asked
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.signals(), (std::vector<std::pair<std::string, int>>{
                                     {"worker", SIGTERM}, {"api", SIGTERM}, {"db", SIGTERM}}));
  EXPECT_TRUE(done);
  for (const char* name : {"db", "api", "worker"}) {
    EXPECT_EQ(State(name), ServiceState::kStopped);
  }
}

TEST_F(SupervisorTest, RestForOneRestartsTheDependentsToo) {
  ServiceSpec db = Spec("db");
  db.cascade = Cascade::kRestForOne;
  Make({db, Spec("api", {"db"}), Spec("worker", {"api"}), Spec("unrelated")});
  supervisor_->StartAll();
  launcher_.Crash("db", 1);
  scheduler_.RunDue();
  EXPECT_EQ(State("api"), ServiceState::kStopped);
  scheduler_.AdvanceBy(1s);
  for (const char* name : {"db", "api", "worker"}) {
    EXPECT_EQ(launcher_.launches(name), 2) << name;
    EXPECT_EQ(State(name), ServiceState::kRunning) << name;
  }
  EXPECT_EQ(launcher_.launches("unrelated"), 1);
  // Dependencies first on the way back up.
  const auto& order = launcher_.launch_order();
  EXPECT_EQ(std::vector<std::string>(order.end() - 3, order.end()),
            (std::vector<std::string>{"db", "api", "worker"}));
}

TEST_F(SupervisorTest, OneForAllRestartsEverything) {
  ServiceSpec a = Spec("a");
  a.cascade = Cascade::kOneForAll;
  Make({a, Spec("b"), Spec("c")});
  supervisor_->StartAll();
  launcher_.Crash("a", 1);
  scheduler_.AdvanceBy(1s);
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_EQ(launcher_.launches(name), 2) << name;
  }
}

TEST_F(SupervisorTest, OneForOneLeavesOthersAlone) {
  Make({Spec("db"), Spec("api", {"db"})});
  supervisor_->StartAll();
  launcher_.Crash("db", 1);
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(launcher_.launches("db"), 2);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorTest, AdoptedServicesAreNotStartedAgain) {
  launcher_.SetAdoption(
      "db", {.outcome = AdoptOutcome::kRunning, .process = {.shim_pid = 50, .child_pid = 51}});
  launcher_.SetAdoption("api", {.outcome = AdoptOutcome::kExitedMeanwhile,
                                .exit = {.exit_code = 1, .description = "exited with code 1"}});
  Make({Spec("db"), Spec("api", {"db"}), Spec("worker", {"api"})});
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.launches("db"), 0);
  EXPECT_EQ(supervisor_->View("db")->pid, 51);
  EXPECT_TRUE(sink_.Has("db:adopted"));
  EXPECT_EQ(State("api"), ServiceState::kBackoff);  // its exit meanwhile goes by the policy
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(launcher_.launches("api"), 1);
  EXPECT_EQ(launcher_.launches("worker"), 1);
  // The adopted process is supervised like any other.
  launcher_.Crash("db", 1);
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(launcher_.launches("db"), 1);
}

TEST_F(SupervisorTest, LaunchFailuresCountTowardsTheIntensityLimit) {
  ServiceSpec spec = Spec("api");
  spec.intensity = {.max_restarts = 2, .within = 60s};
  Make({spec});
  launcher_.FailLaunches("api", NotFoundError("./api: no such file"));
  supervisor_->StartAll();
  scheduler_.AdvanceBy(10s);
  EXPECT_EQ(State("api"), ServiceState::kFatal);
  EXPECT_EQ(launcher_.launches("api"), 3);
  EXPECT_TRUE(sink_.Has("api:launch_failed"));
}

TEST_F(SupervisorTest, ManualRestartStopsThenStartsAgain) {
  Make({Spec("api")});
  supervisor_->StartAll();
  ASSERT_TRUE(supervisor_->Restart("api").ok());
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(State("api"), ServiceState::kRunning);
  EXPECT_EQ(supervisor_->View("api")->restarts, 0);  // only automatic restarts count
}

TEST_F(SupervisorTest, DependentsWaitForTheirDependencies) {
  Make({Spec("db"), Spec("api", {"db"})});
  launcher_.FailLaunches("db", ResourceError("no memory"));
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.launches("api"), 0);
  EXPECT_EQ(State("api"), ServiceState::kStopped);
  EXPECT_EQ(supervisor_->View("api")->message, "waiting for db (started)");
}

TEST_F(SupervisorTest, PresetKeepsAHandStoppedServiceDownAndItsRestartCount) {
  Make({Spec("db"), Spec("worker")});
  supervisor_->Preset("worker", /*stopped_by_hand=*/true, 0);
  supervisor_->Preset("db", false, 4);
  supervisor_->StartAll();
  EXPECT_EQ(State("db"), ServiceState::kRunning);
  EXPECT_EQ(supervisor_->View("db")->restarts, 4);
  EXPECT_EQ(State("worker"), ServiceState::kStopped);
  EXPECT_EQ(launcher_.launches("worker"), 0);
  ASSERT_TRUE(supervisor_->Start("worker").ok());
  EXPECT_EQ(State("worker"), ServiceState::kRunning);
}

// The start gate: depends_on = "healthy" waits for the health oracle, up to the timeout.
class StartGateTest : public SupervisorTest {
 protected:
  void MakeGated(std::vector<ServiceSpec> specs) {
    Make(std::move(specs));
    supervisor_->SetStartGate({.is_healthy = [this](const std::string& name) {
                                 return healthy_.count(name) > 0;
                               },
                               .startup_timeout = 30s,
                               .check_interval = 5s});
  }
  static ServiceSpec Needs(std::string name, std::string dependency, bool required = true) {
    ServiceSpec spec = Spec(std::move(name));
    spec.depends_on.push_back({dependency, DependencyCondition::kHealthy, required});
    return spec;
  }

  std::set<std::string> healthy_;
};

TEST_F(StartGateTest, AHealthyDependencyMustBeHealthyNotJustRunning) {
  MakeGated({Spec("db"), Needs("api", "db")});
  supervisor_->StartAll();
  EXPECT_EQ(State("db"), ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("api"), 0);
  EXPECT_EQ(supervisor_->View("api")->message, "waiting for db (healthy)");
  scheduler_.AdvanceBy(5s);  // a check: still waiting, and it says so
  EXPECT_TRUE(sink_.Has("api:waiting"));
  healthy_.insert("db");
  supervisor_->OnHealthChanged("db");
  EXPECT_EQ(State("api"), ServiceState::kRunning);
}

TEST_F(StartGateTest, GivesUpAfterTheStartupTimeoutNamingTheDependency) {
  MakeGated({Spec("db"), Needs("api", "db")});
  supervisor_->StartAll();
  scheduler_.AdvanceBy(29s);
  EXPECT_EQ(State("api"), ServiceState::kStopped);
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(State("api"), ServiceState::kFatal);
  EXPECT_EQ(supervisor_->View("api")->message,
            "dependencies not met within 30s: db (healthy); start it by hand once they are");
  EXPECT_TRUE(sink_.Has("api:dependency_timeout"));
  healthy_.insert("db");
  supervisor_->OnHealthChanged("db");
  EXPECT_EQ(State("api"), ServiceState::kFatal);  // a person decides now
  ASSERT_TRUE(supervisor_->Start("api").ok());
  EXPECT_EQ(State("api"), ServiceState::kRunning);
}

TEST_F(StartGateTest, AfterItsFirstStartAServiceWaitsWithoutADeadline) {
  MakeGated({Spec("db"), Needs("api", "db")});
  healthy_.insert("db");
  supervisor_->StartAll();
  ASSERT_EQ(State("api"), ServiceState::kRunning);
  healthy_.erase("db");
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  scheduler_.AdvanceBy(5min);  // db stays unhealthy far past the startup timeout
  EXPECT_EQ(State("api"), ServiceState::kStopped);
  EXPECT_FALSE(sink_.Has("api:dependency_timeout"));
  healthy_.insert("db");
  supervisor_->OnHealthChanged("db");
  EXPECT_EQ(State("api"), ServiceState::kRunning);
}

TEST_F(StartGateTest, AnOptionalDependencyOnlyWarns) {
  MakeGated({Spec("cache"), Needs("api", "cache", /*required=*/false)});
  supervisor_->StartAll();
  EXPECT_EQ(State("api"), ServiceState::kRunning);
  EXPECT_TRUE(sink_.Has("api:optional_dependency_unmet"));
}

TEST_F(StartGateTest, StoppingAWaitingServiceEndsTheWait) {
  MakeGated({Spec("db"), Needs("api", "db")});
  supervisor_->StartAll();
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  scheduler_.AdvanceBy(60s);
  EXPECT_EQ(State("api"), ServiceState::kStopped);  // not fatal: nobody wants it
  EXPECT_FALSE(sink_.Has("api:dependency_timeout"));
}

TEST_F(SupervisorTest, RestartWhileStoppingKeepsTheKillEscalationThenStartsAgain) {
  ServiceSpec spec = Spec("api");
  spec.stop_timeout = 2s;
  Make({spec});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  ASSERT_TRUE(supervisor_->Restart("api").ok());
  EXPECT_EQ(State("api"), ServiceState::kStopping);
  scheduler_.AdvanceBy(2s);
  EXPECT_EQ(launcher_.signals().back(), (std::pair<std::string, int>{"api", SIGKILL}));
  EXPECT_EQ(State("api"), ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("api"), 2);
}

TEST_F(SupervisorTest, AFailedAdoptionIsFatalRatherThanAStartedDuplicate) {
  launcher_.FailAdoption("api", ResourceError("pidfd_open: too many open files"));
  Make({Spec("api")});
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.launches("api"), 0);
  EXPECT_EQ(State("api"), ServiceState::kFatal);
  EXPECT_TRUE(sink_.Has("api:adopt_failed"));
}

TEST_F(SupervisorTest, AnExitWhileNoDaemonWatchedFollowsThePolicy) {
  ServiceSpec once = Spec("once");
  once.restart = RestartPolicy::kNever;
  launcher_.SetAdoption("once", {.outcome = AdoptOutcome::kExitedMeanwhile,
                                 .exit = {.exit_code = 1, .description = "exited with code 1"}});
  Make({once});
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(launcher_.launches("once"), 0);
  EXPECT_EQ(State("once"), ServiceState::kExited);
  EXPECT_TRUE(sink_.Has("once:exited"));
}

TEST_F(SupervisorTest, FailedLaunchesBackOffExponentially) {
  Make({Spec("api")});
  launcher_.FailLaunches("api", NotFoundError("no such file"));
  clock_.AdvanceBy(1h);  // long after the supervisor was made: no stale "stable run"
  supervisor_->StartAll();
  EXPECT_EQ(supervisor_->View("api")->message, "restarting in 100ms");
  scheduler_.AdvanceBy(100ms);
  EXPECT_EQ(supervisor_->View("api")->message, "restarting in 200ms");
}

TEST_F(SupervisorTest, UnknownNamesAreNotFound) {
  Make({Spec("api")});
  EXPECT_EQ(supervisor_->Start("nope").error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(supervisor_->Stop("nope").error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(supervisor_->Restart("nope").error().category(), ErrorCategory::kNotFound);
  EXPECT_FALSE(supervisor_->View("nope").ok());
}

}  // namespace
}  // namespace rebound::supervise
