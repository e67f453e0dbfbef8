// Supervisor::Reconfigure: what a configuration reload does to running services.

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "supervise/supervisor.h"
#include "testing/fake_launcher.h"
#include "testing/manual_scheduler.h"

namespace rebound::supervise {
namespace {

using namespace std::chrono_literals;
using rebound::testing::FakeLauncher;
using rebound::testing::ManualScheduler;

class KindsSink final : public EventSink {
 public:
  void Emit(const std::string& kind, const std::string& service, const nlohmann::json&) override {
    events.push_back(service + ":" + kind);
  }
  bool Has(const std::string& event) const {
    return std::find(events.begin(), events.end(), event) != events.end();
  }
  std::vector<std::string> events;
};

ServiceSpec ReconfigSpec(std::string name, std::vector<std::string> command = {"/bin/true"}) {
  ServiceSpec spec{.name = std::move(name), .command = std::move(command)};
  spec.backoff = {.initial = 100ms, .factor = 2.0, .max = 5s};
  return spec;
}

class SupervisorReconfigureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    supervisor_ = std::make_unique<Supervisor>(
        std::vector<ServiceSpec>{ReconfigSpec("db"), ReconfigSpec("api")}, launcher_, scheduler_,
        clock_, random_, sink_);
    supervisor_->StartAll();
  }
  std::vector<std::string> Names() {
    std::vector<std::string> names;
    for (const ServiceView& view : supervisor_->Views()) {
      names.push_back(view.name);
    }
    return names;
  }

  ManualClock clock_;
  ManualScheduler scheduler_{clock_};
  FakeLauncher launcher_{scheduler_, clock_};
  Random random_{1};
  KindsSink sink_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(SupervisorReconfigureTest, IdenticalSpecsLeaveEveryServiceAlone) {
  ASSERT_TRUE(supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api")}).ok());
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("db"), 1);
  EXPECT_EQ(launcher_.launches("api"), 1);
  EXPECT_TRUE(launcher_.signals().empty());
}

TEST_F(SupervisorReconfigureTest, AddedServiceStarts) {
  ASSERT_TRUE(
      supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api"), ReconfigSpec("worker")})
          .ok());
  EXPECT_EQ(launcher_.launches("worker"), 1);
  EXPECT_EQ(supervisor_->View("worker")->state, ServiceState::kRunning);
  EXPECT_TRUE(sink_.Has("worker:added"));
  EXPECT_EQ(Names(), (std::vector<std::string>{"db", "api", "worker"}));
}

TEST_F(SupervisorReconfigureTest, RemovedServiceStopsThenIsForgotten) {
  ASSERT_TRUE(supervisor_->Reconfigure({ReconfigSpec("db")}).ok());
  EXPECT_TRUE(sink_.Has("api:removed"));
  EXPECT_EQ(launcher_.signals(), (std::vector<std::pair<std::string, int>>{{"api", SIGTERM}}));
  EXPECT_FALSE(supervisor_->View("api").ok());  // gone from the API at once
  EXPECT_EQ(Names(), (std::vector<std::string>{"db"}));
  scheduler_.RunDue();  // the stop signal's exit arrives
  EXPECT_FALSE(launcher_.IsRunning("api"));
  EXPECT_EQ(launcher_.launches("api"), 1);  // not restarted
}

// A service waiting for its dependencies has a timer that re-checks them; removing it must
// cancel that timer before the service is forgotten, or the timer fires on a freed service.
TEST_F(SupervisorReconfigureTest, ARemovedServiceWaitingForItsDependenciesLeavesNoTimer) {
  ServiceSpec api = ReconfigSpec("api");
  api.depends_on.push_back({"db", DependencyCondition::kHealthy});
  supervisor_ = std::make_unique<Supervisor>(std::vector<ServiceSpec>{ReconfigSpec("db"), api},
                                             launcher_, scheduler_, clock_, random_, sink_);
  supervisor_->SetStartGate(
      {.is_healthy = [](const std::string&) { return false; }, .check_interval = 1s});
  supervisor_->StartAll();
  ASSERT_EQ(launcher_.launches("api"), 1);  // the fixture's own supervisor, not this one
  ASSERT_GT(scheduler_.pending(), 0u);      // api waits for db to be healthy
  ASSERT_TRUE(supervisor_->Reconfigure({ReconfigSpec("db")}).ok());
  EXPECT_EQ(Names(), (std::vector<std::string>{"db"}));
  EXPECT_EQ(scheduler_.pending(), 0u);
  scheduler_.AdvanceBy(5s);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorReconfigureTest, ChangedServiceRestartsWithItsNewCommand) {
  ASSERT_TRUE(
      supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api", {"/bin/sleep", "9"})})
          .ok());
  EXPECT_TRUE(sink_.Has("api:changed"));
  EXPECT_EQ(supervisor_->View("api")->state, ServiceState::kStopping);
  scheduler_.RunDue();
  EXPECT_EQ(launcher_.launches("api"), 2);
  EXPECT_EQ(supervisor_->View("api")->state, ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("db"), 1);
}

TEST_F(SupervisorReconfigureTest, ChangedServiceTheOperatorStoppedStaysStopped) {
  ASSERT_TRUE(supervisor_->Stop("api").ok());
  scheduler_.RunDue();
  ASSERT_TRUE(
      supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api", {"/bin/sleep", "9"})})
          .ok());
  scheduler_.RunDue();
  EXPECT_EQ(supervisor_->View("api")->state, ServiceState::kStopped);
  EXPECT_EQ(launcher_.launches("api"), 1);
}

TEST_F(SupervisorReconfigureTest, ASecondReloadWhileARemovedServiceStillStopsIsAConflict) {
  launcher_.IgnoreStopSignals("api");
  ASSERT_TRUE(supervisor_->Reconfigure({ReconfigSpec("db")}).ok());
  Status again = supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api")});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().category(), ErrorCategory::kConflict);
  EXPECT_NE(again.error().message().find("'api'"), std::string::npos);
  scheduler_.AdvanceBy(10s);  // the stop timeout: SIGKILL, the service is down
  scheduler_.RunDue();
  EXPECT_TRUE(supervisor_->Reconfigure({ReconfigSpec("db"), ReconfigSpec("api")}).ok());
  EXPECT_EQ(supervisor_->View("api")->state, ServiceState::kRunning);
  EXPECT_EQ(launcher_.launches("api"), 2);
}

TEST(SameServiceSpecTest, IgnoresTheLineButNotTheCommandOrEnvironment) {
  ServiceSpec a = ReconfigSpec("api");
  ServiceSpec b = a;
  b.line = 42;
  EXPECT_TRUE(SameServiceSpec(a, b));
  b.env["X"] = "1";
  EXPECT_FALSE(SameServiceSpec(a, b));
  b = a;
  b.stop_timeout = 3s;
  EXPECT_FALSE(SameServiceSpec(a, b));
  b = a;
  b.backoff.initial = 1s;
  EXPECT_FALSE(SameServiceSpec(a, b));
}

}  // namespace
}  // namespace rebound::supervise
