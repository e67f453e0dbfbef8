#include "testing/fake_service_controller.h"

#include <gtest/gtest.h>

namespace rebound::testing {
namespace {

class FakeServiceControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    controller_.AddService({.name = "api", .state = "running", .pid = 42, .uptime_seconds = 9});
    controller_.AddService({.name = "db", .state = "stopped"});
  }
  FakeServiceController controller_;
};

TEST_F(FakeServiceControllerTest, ListsServicesInInsertionOrder) {
  std::vector<engine::ServiceStatus> services = controller_.ListServices();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name, "api");
  EXPECT_EQ(services[1].name, "db");
}

TEST_F(FakeServiceControllerTest, AddServiceReplacesASameNamedOne) {
  controller_.AddService({.name = "db", .state = "fatal"});
  ASSERT_EQ(controller_.ListServices().size(), 2u);
  EXPECT_EQ(controller_.GetService("db")->state, "fatal");
}

TEST_F(FakeServiceControllerTest, UnknownNameIsNotFound) {
  Result<engine::ServiceStatus> service = controller_.GetService("nope");
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(controller_.StopService("nope").error().category(), ErrorCategory::kNotFound);
}

TEST_F(FakeServiceControllerTest, StartStopRestartChangeStateAndPid) {
  Result<engine::ServiceStatus> started = controller_.StartService("db");
  ASSERT_TRUE(started.ok());
  EXPECT_EQ(started->state, "running");
  ASSERT_TRUE(started->pid.has_value());

  Result<engine::ServiceStatus> stopped = controller_.StopService("api");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state, "stopped");
  EXPECT_FALSE(stopped->pid.has_value());
  EXPECT_EQ(stopped->uptime_seconds, 0);

  Result<engine::ServiceStatus> restarted = controller_.RestartService("db");
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(restarted->restarts, 1);
  EXPECT_NE(restarted->pid, started->pid);
  EXPECT_EQ(controller_.GetService("db")->restarts, 1);
  EXPECT_EQ(controller_.calls(), (std::vector<std::string>{"start db", "stop api", "restart db"}));
}

TEST_F(FakeServiceControllerTest, ScriptedErrorIsReturnedOnce) {
  controller_.FailNextCall(ConflictError("api is stopping"));
  Result<engine::ServiceStatus> failed = controller_.RestartService("api");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(controller_.GetService("api")->restarts, 0);
  EXPECT_TRUE(controller_.RestartService("api").ok());
}

TEST_F(FakeServiceControllerTest, ScriptedErrorAlsoFailsAGet) {
  controller_.FailNextCall(TimeoutError("engine busy"));
  EXPECT_EQ(controller_.GetService("api").error().category(), ErrorCategory::kTimeout);
  EXPECT_TRUE(controller_.GetService("api").ok());
}

TEST_F(FakeServiceControllerTest, ShuttingDownIsScripted) {
  EXPECT_FALSE(controller_.IsShuttingDown());
  controller_.SetShuttingDown(true);
  EXPECT_TRUE(controller_.IsShuttingDown());
}

}  // namespace
}  // namespace rebound::testing
