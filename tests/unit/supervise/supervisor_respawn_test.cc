// The supervisor's immediate restarts: which allowance each process gets, when it is revoked,
// and how restarts a process made itself are recorded (supervisor_respawn.cc).

#include <gtest/gtest.h>

#include <algorithm>

#include "base/manual_clock.h"
#include "supervise/supervisor.h"
#include "testing/fake_launcher.h"
#include "testing/manual_scheduler.h"

namespace rebound::supervise {
namespace {

using namespace std::chrono_literals;
using rebound::testing::FakeLauncher;
using rebound::testing::ManualScheduler;

class EventLog final : public EventSink {
 public:
  void Emit(const std::string& kind, const std::string& service,
            const nlohmann::json& data) override {
    events.push_back(service + ":" + kind);
    payloads.push_back(data);
  }
  int Count(const std::string& event) const {
    return static_cast<int>(std::count(events.begin(), events.end(), event));
  }
  std::vector<std::string> events;
  std::vector<nlohmann::json> payloads;
};

// Restarted at once (fixed 0s), at most 3 times a minute.
ServiceSpec ImmediateSpec(std::string name) {
  ServiceSpec spec{.name = std::move(name), .command = {"/bin/true"}};
  spec.backoff = {.strategy = resilience::BackoffStrategy::kFixed,
                  .initial = 0s,
                  .max = 0s,
                  .jitter = resilience::Jitter::kNone};
  spec.intensity = {.max_restarts = 3, .within = 60s};
  return spec;
}

class SupervisorRespawnTest : public ::testing::Test {
 protected:
  void SetUp() override { launcher_.EnableRespawn(); }
  void Make(std::vector<ServiceSpec> specs) {
    supervisor_ = std::make_unique<Supervisor>(std::move(specs), launcher_, scheduler_, clock_,
                                               random_, events_);
  }
  ServiceView View(const std::string& name) { return *supervisor_->View(name); }

  ManualClock clock_;
  ManualScheduler scheduler_{clock_};
  FakeLauncher launcher_{scheduler_, clock_};
  Random random_{1};
  EventLog events_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorRespawnTest, GrantsAsManyImmediateRestartsAsTheIntensityLeaves) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, ARestartTheProcessMadeIsRecordedLikeOneOfOurs) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  const int first_pid = launcher_.pid("api");
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("api"), 1);  // no new shim
  const ServiceView view = View("api");
  EXPECT_EQ(view.state, ServiceState::kRunning);
  EXPECT_EQ(view.pid, launcher_.pid("api"));
  EXPECT_NE(view.pid, first_pid);
  EXPECT_EQ(view.restarts, 1);
  ASSERT_TRUE(view.last_exit.has_value());
  EXPECT_EQ(view.last_exit->exit_code, 1);
  EXPECT_EQ(events_.Count("api:exited"), 1);
  EXPECT_EQ(events_.Count("api:started"), 2);
  EXPECT_EQ(events_.payloads.back()["pid"], launcher_.pid("api"));
  // Generation 1 of at most 3: two restarts are left, so the allowance stays at 3.
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, FatalComesAtTheSameCrashOnceTheAllowanceIsSpent) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  for (int i = 0; i < 3; ++i) {
    launcher_.Crash("api", 1);
    scheduler_.RunDue();
    ASSERT_EQ(View("api").state, ServiceState::kRunning) << i;
  }
  EXPECT_EQ(launcher_.generation("api"), 3u);
  EXPECT_EQ(View("api").restarts, 3);
  EXPECT_EQ(launcher_.allowance("api"), 3u);  // spent: the next exit comes to the supervisor
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kFatal);
  EXPECT_EQ(events_.Count("api:fatal"), 1);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorRespawnTest, WithoutRespawnTheSameCrashesAreFatalAtTheSamePoint) {
  FakeLauncher plain(scheduler_, clock_);  // the comparison: every restart by the supervisor
  Supervisor supervisor({ImmediateSpec("api")}, plain, scheduler_, clock_, random_, events_);
  supervisor.StartAll();
  for (int i = 0; i < 3; ++i) {
    plain.Crash("api", 1);
    scheduler_.RunDue();
    ASSERT_EQ(supervisor.View("api")->state, ServiceState::kRunning) << i;
  }
  plain.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(supervisor.View("api")->state, ServiceState::kFatal);
  EXPECT_EQ(supervisor.View("api")->restarts, 3);
  EXPECT_TRUE(plain.allowances_sent().empty());
}

TEST_F(SupervisorRespawnTest, RestartsThatLeaveTheWindowAreAllowedAgain) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  for (int i = 0; i < 3; ++i) {
    launcher_.Crash("api", 1);
    scheduler_.RunDue();
  }
  EXPECT_EQ(launcher_.allowance("api"), 3u);
  scheduler_.AdvanceBy(61s);
  supervisor_->OnHealthChanged("api");  // any later event re-evaluates the allowance
  EXPECT_EQ(launcher_.allowance("api"), 6u);
}

TEST_F(SupervisorRespawnTest, ANonZeroBackoffGetsNoAllowance) {
  ServiceSpec spec = ImmediateSpec("api");
  spec.backoff = {.initial = 100ms, .factor = 2.0, .max = 5s};
  Make({spec});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("api"), 0u);
  EXPECT_TRUE(launcher_.allowances_sent().empty());
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kBackoff);
  scheduler_.AdvanceBy(100ms);
  EXPECT_EQ(launcher_.launches("api"), 2);
}

TEST_F(SupervisorRespawnTest, OnlyTheRestartsWithAZeroDelayAreAllowed) {
  ServiceSpec spec = ImmediateSpec("api");
  // Linear from 0: the first retry is immediate, the second waits 100ms.
  spec.backoff = {.strategy = resilience::BackoffStrategy::kLinear,
                  .initial = 0s,
                  .increment = 100ms,
                  .max = 1s};
  Make({spec});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("api"), 1u);
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").restarts, 1);
  EXPECT_EQ(launcher_.allowance("api"), 1u);  // generation 1: nothing more
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kBackoff);
  EXPECT_EQ(View("api").message, "restarting in 100ms");
}

TEST_F(SupervisorRespawnTest, OnFailureRestartsFailuresAndLeavesACleanExitToThePolicy) {
  ServiceSpec spec = ImmediateSpec("api");
  spec.restart = RestartPolicy::kOnFailure;
  Make({spec});
  supervisor_->StartAll();
  launcher_.Crash("api", 2);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").restarts, 1);
  EXPECT_EQ(View("api").state, ServiceState::kRunning);
  launcher_.Crash("api", 0);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kExited);
  EXPECT_EQ(View("api").restarts, 1);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorRespawnTest, NeverAndCascadingServicesGetNoAllowance) {
  ServiceSpec never = ImmediateSpec("never");
  never.restart = RestartPolicy::kNever;
  ServiceSpec rest = ImmediateSpec("rest");
  rest.cascade = Cascade::kRestForOne;
  ServiceSpec all = ImmediateSpec("all");
  all.cascade = Cascade::kOneForAll;
  Make({never, rest, all, ImmediateSpec("plain")});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("never"), 0u);
  EXPECT_EQ(launcher_.allowance("rest"), 0u);
  EXPECT_EQ(launcher_.allowance("all"), 0u);
  EXPECT_EQ(launcher_.allowance("plain"), 3u);
  // A cascade still goes through the supervisor: "all" stops "plain" first.
  launcher_.Crash("all", 1);
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("all"), 2);
  EXPECT_EQ(launcher_.launches("plain"), 2);
}

TEST_F(SupervisorRespawnTest, AllowanceFollowsTheDependencies) {
  ServiceSpec api = ImmediateSpec("api");
  api.depends_on.push_back({"db", DependencyCondition::kStarted});
  ServiceSpec db = ImmediateSpec("db");
  db.backoff = {.initial = 1s, .factor = 2.0, .max = 5s};  // db restarts through us
  Make({db, api});
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("api"), 3u);
  launcher_.Crash("db", 1);
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.allowance("api"), 0u);  // a restart of api now would wait for db
  scheduler_.AdvanceBy(1s);
  EXPECT_EQ(View("db").state, ServiceState::kRunning);
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, AHealthyConditionIsAllowedOnlyWhileTheDependencyIsHealthy) {
  bool db_healthy = false;
  ServiceSpec api = ImmediateSpec("api");
  api.depends_on.push_back({"db", DependencyCondition::kHealthy});
  Make({ImmediateSpec("db"), api});
  supervisor_->SetStartGate({.is_healthy = [&](const std::string&) { return db_healthy; }});
  supervisor_->StartAll();
  db_healthy = true;
  supervisor_->OnHealthChanged("db");
  EXPECT_EQ(View("api").state, ServiceState::kRunning);
  EXPECT_EQ(launcher_.allowance("api"), 3u);
  db_healthy = false;
  supervisor_->OnHealthChanged("db");
  EXPECT_EQ(launcher_.allowance("api"), 0u);
}

TEST_F(SupervisorRespawnTest, StopRevokesBeforeItSignals) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.calls(),
            (std::vector<std::string>{"allow api 3", "allow api 0", "signal api 15"}));
  EXPECT_EQ(View("api").state, ServiceState::kStopped);
}

TEST_F(SupervisorRespawnTest, AStopThatEndsInSigkillIsNotRestartedByTheProcess) {
  ServiceSpec spec = ImmediateSpec("api");
  spec.stop_signal = SIGKILL;  // never forwarded: only the revoke keeps it down
  Make({spec});
  supervisor_->StartAll();
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kStopped);
  EXPECT_EQ(launcher_.generation("api"), 0u);
}

TEST_F(SupervisorRespawnTest, RestartByHandRevokesThenStartsANewProcess) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Restart("api").ok());
  scheduler_.AdvanceBy(10s);  // stop timeout: SIGKILL, which the revoked process cannot undo
  EXPECT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(View("api").state, ServiceState::kRunning);
  EXPECT_EQ(launcher_.allowance("api"), 3u);  // the new process's own allowance
}

TEST_F(SupervisorRespawnTest, ShutdownRevokesEveryAllowanceBeforeTheFirstSignal) {
  Make({ImmediateSpec("db"), ImmediateSpec("api")});
  supervisor_->StartAll();
  bool done = false;
  supervisor_->StopAll([&] { done = true; });
  const std::vector<std::string> calls = launcher_.calls();
  const auto first_signal = std::find_if(
      calls.begin(), calls.end(), [](const std::string& c) { return c.starts_with("signal"); });
  EXPECT_NE(std::find(calls.begin(), first_signal, "allow db 0"), first_signal);
  EXPECT_NE(std::find(calls.begin(), first_signal, "allow api 0"), first_signal);
  scheduler_.RunDue();
  scheduler_.RunDue();
  EXPECT_TRUE(done);
  EXPECT_EQ(launcher_.generation("db") + launcher_.generation("api"), 0u);
}

TEST_F(SupervisorRespawnTest, ARestartThatRacedAStopIsCountedAndTheStopGoesOn) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  launcher_.RespawnIgnoringAllowance("api", 1);  // the revoke arrived after the crash
  scheduler_.RunDue();
  EXPECT_EQ(View("api").state, ServiceState::kStopping);
  EXPECT_EQ(View("api").restarts, 1);
  EXPECT_EQ(View("api").pid, launcher_.pid("api"));
  EXPECT_EQ(events_.Count("api:started"), 1);  // not running again: no probes, no "started"
  scheduler_.AdvanceBy(10s);
  EXPECT_EQ(View("api").state, ServiceState::kStopped);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorRespawnTest, ARestartThatRacedAStopDoesNotCountTowardTheIntensity) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  launcher_.RespawnIgnoringAllowance("api", 1);  // the revoke arrived after the crash
  scheduler_.RunDue();
  scheduler_.AdvanceBy(10s);
  ASSERT_EQ(View("api").state, ServiceState::kStopped);
  ASSERT_TRUE(supervisor_->Start("api").ok());
  ASSERT_EQ(View("api").state, ServiceState::kRunning);
  // All 3 restarts of the window are left: the raced one was absorbed by the stop.
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, ARestartThatRacedARestartByHandLeavesTheIntensityAlone) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Restart("api").ok());
  launcher_.RespawnIgnoringAllowance("api", 1);
  scheduler_.RunDue();
  scheduler_.AdvanceBy(10s);
  ASSERT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, AFailedRevokeIsSaidAndTheSigkillStopEndsTheProcessForGood) {
  ServiceSpec spec = ImmediateSpec("api");
  spec.stop_signal = SIGKILL;
  Make({spec});
  supervisor_->StartAll();
  launcher_.FailAllowances("api", true);  // e.g. EAGAIN: too many signals pending
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  scheduler_.RunDue();
  EXPECT_EQ(events_.Count("api:respawn_revoke_failed"), 1);
  EXPECT_EQ(View("api").state, ServiceState::kStopped);
  EXPECT_EQ(launcher_.generation("api"), 0u);
}

// The send is retried on a timer, not only at the next evaluation: here nothing else happens
// while db is in its backoff, and api's shim would hold its allowance all that time.
TEST_F(SupervisorRespawnTest, AnAllowanceThatDidNotArriveIsSentAgainShortly) {
  ServiceSpec api = ImmediateSpec("api");
  api.depends_on.push_back({"db", DependencyCondition::kStarted});
  ServiceSpec db = ImmediateSpec("db");
  db.backoff = {.initial = 1s, .factor = 2.0, .max = 5s};
  Make({db, api});
  supervisor_->StartAll();
  ASSERT_EQ(launcher_.allowance("api"), 3u);
  launcher_.FailAllowances("api", true);
  launcher_.Crash("db", 1);
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.calls().back(), "allow api 0 failed");
  EXPECT_EQ(launcher_.allowance("api"), 3u);  // still held
  scheduler_.AdvanceBy(100ms);
  EXPECT_EQ(launcher_.calls().back(), "allow api 0 failed");  // tried again, failed again
  launcher_.FailAllowances("api", false);
  scheduler_.AdvanceBy(100ms);
  EXPECT_EQ(launcher_.allowance("api"), 0u);  // db is still in its 1 s backoff
  const size_t calls = launcher_.calls().size();
  scheduler_.AdvanceBy(500ms);
  EXPECT_EQ(launcher_.calls().size(), calls);  // delivered: no more retries
}

TEST_F(SupervisorRespawnTest, AProcessWhoseRestartsCannotBeWatchedIsRevokedAndSaidOnce) {
  launcher_.SetAdoption("api", {.outcome = AdoptOutcome::kRunning,
                                .process = {.shim_pid = 7, .child_pid = 8, .generation = 5}});
  launcher_.FailRespawnWatch("api");
  launcher_.FailRespawnWatch("db");
  Make({ImmediateSpec("db"), ImmediateSpec("api")});
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.allowance("api"), 5u);  // what an earlier daemon granted is revoked
  EXPECT_EQ(launcher_.allowance("db"), 0u);
  EXPECT_EQ(events_.Count("db:respawn_unwatched") + events_.Count("api:respawn_unwatched"), 1);
  launcher_.Crash("api", 1);  // its exit comes to the supervisor, which restarts it
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("api"), 1);
  EXPECT_EQ(View("api").restarts, 1);
}

TEST_F(SupervisorRespawnTest, SeveralRestartsReportedTogetherCountEach) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  launcher_.Crash("api", 1);
  launcher_.Crash("api", 1);  // before the first one was reported
  scheduler_.RunDue();
  EXPECT_EQ(View("api").restarts, 2);
  EXPECT_EQ(events_.Count("api:exited"), 1);
  EXPECT_EQ(events_.payloads[events_.events.size() - 2]["restarts"], 2);
  EXPECT_EQ(launcher_.allowance("api"), 3u);
}

TEST_F(SupervisorRespawnTest, AnAdoptedProcessGetsAFreshAllowanceFromItsGeneration) {
  launcher_.SetAdoption("api", {.outcome = AdoptOutcome::kRunning,
                                .process = {.shim_pid = 7, .child_pid = 8, .generation = 5}});
  Make({ImmediateSpec("api")});
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  EXPECT_EQ(launcher_.launches("api"), 0);
  EXPECT_EQ(launcher_.allowance("api"), 8u);
  launcher_.Crash("api", 1);
  scheduler_.RunDue();
  EXPECT_EQ(View("api").restarts, 1);
  EXPECT_EQ(launcher_.generation("api"), 6u);
}

TEST_F(SupervisorRespawnTest, AnAdoptedProcessThatMayNotRestartIsRevokedExplicitly) {
  // An earlier daemon may have left it an allowance: "none" must be said, not assumed.
  ServiceSpec spec = ImmediateSpec("api");
  spec.backoff = {.initial = 1s, .factor = 2.0, .max = 5s};
  launcher_.SetAdoption("api", {.outcome = AdoptOutcome::kRunning,
                                .process = {.shim_pid = 7, .child_pid = 8, .generation = 2}});
  Make({spec});
  supervisor_->AdoptAll();
  EXPECT_EQ(launcher_.allowances_sent(),
            (std::vector<std::pair<std::string, uint64_t>>{{"api", 2}}));
}

TEST_F(SupervisorRespawnTest, ReconfiguringToACascadeRestartsWithoutAnAllowance) {
  Make({ImmediateSpec("api")});
  supervisor_->StartAll();
  ServiceSpec changed = ImmediateSpec("api");
  changed.cascade = Cascade::kOneForAll;
  ASSERT_TRUE(supervisor_->Reconfigure({changed}).ok());
  EXPECT_EQ(launcher_.calls()[1], "allow api 0");  // revoked before its stop
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(launcher_.allowance("api"), 0u);
}

}  // namespace
}  // namespace rebound::supervise
