// The CLI client against a real HTTP server on 127.0.0.1 backed by a FakeServiceController.

#include <gtest/gtest.h>

#include <sstream>

#include "api/http_server.h"
#include "api/service_routes.h"
#include "cli/client.h"
#include "cli/connect_probe.h"
#include "http_test_util.h"
#include "testing/fake_service_controller.h"

namespace rebound::cli {
namespace {

const std::string kToken(64, 'c');

class CliClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Serve(api::HttpServerOptions{}); }
  void TearDown() override { server_->Stop(); }

  void Serve(const api::HttpServerOptions& options) {
    controller_.AddService({.name = "api",
                            .state = "running",
                            .pid = 4242,
                            .restarts = 3,
                            .uptime_seconds = 3725.4,
                            .last_exit = nlohmann::json{{"code", 1}, {"signal", nullptr}}});
    controller_.AddService({.name = "my worker", .state = "running", .pid = 77});
    server_ = std::make_unique<api::HttpServer>(options);
    api::RegisterServiceRoutes(*server_, controller_);
    ASSERT_TRUE(server_->Start("127.0.0.1", 0, kToken).ok());
    options_.url = "http://127.0.0.1:" + std::to_string(server_->port());
    options_.token = kToken;
    options_.token_source = "/data/token";
  }

  int Status() { return RunStatus(options_, out_, err_); }
  int Action(const std::string& action, const std::string& name) {
    return RunServiceAction(options_, action, name, out_, err_);
  }

  testing::FakeServiceController controller_;
  std::unique_ptr<api::HttpServer> server_;
  ClientOptions options_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliClientTest, StatusPrintsATableAndExits0WhenHealthy) {
  EXPECT_EQ(Status(), 0);
  EXPECT_EQ(out_.str(),
            "NAME       STATE    HEALTH  BREAKER  PID   RESTARTS  UPTIME  LAST-EXIT\n"
            "api        running  none    closed   4242  3         1h2m5s  code 1\n"
            "my worker  running  none    closed   77    0         -       -\n"
            "\n"
            "healthy\n");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliClientTest, StatusExits1WhenDegraded) {
  controller_.AddService({.name = "db", .state = "fatal", .message = "too many restarts"});
  EXPECT_EQ(Status(), 1);
  EXPECT_NE(out_.str().find("db         fatal"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\nunhealthy: db (fatal: too many restarts)\n"), std::string::npos);
}

TEST_F(CliClientTest, StatusExits1WhileShuttingDown) {
  controller_.SetShuttingDown(true);
  EXPECT_EQ(Status(), 1);
  EXPECT_NE(out_.str().find("\nshutting down\n"), std::string::npos);
}

TEST_F(CliClientTest, StatusJsonPrintsTheDaemonsJson) {
  options_.json = true;
  EXPECT_EQ(Status(), 0);
  nlohmann::json printed = nlohmann::json::parse(out_.str());
  ASSERT_EQ(printed["services"].size(), 2u);
  EXPECT_EQ(printed["services"][0]["name"], "api");
  EXPECT_EQ(printed["services"][0]["pid"], 4242);
}

TEST_F(CliClientTest, StatusColoursOnlyWhenAsked) {
  options_.color = true;
  EXPECT_EQ(Status(), 0);
  EXPECT_NE(out_.str().find("\033[32mrunning\033[0m"), std::string::npos);
}

TEST_F(CliClientTest, DaemonDownIsOneClearLineAndExit2) {
  const int port = testing::UnusedPort();
  options_.url = "http://127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(Status(), 2);
  EXPECT_EQ(err_.str(),
            "rebound: cannot reach the daemon at http://127.0.0.1:" + std::to_string(port) +
                " (connection refused); is \"rebound serve\" running?\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(CliClientTest, BadUrlIsReportedAndExit2) {
  options_.url = "ftp://127.0.0.1:1";
  EXPECT_EQ(Status(), 2);
  EXPECT_NE(err_.str().find("rebound: daemon URL ftp://127.0.0.1:1: must start with http://"),
            std::string::npos)
      << err_.str();
}

TEST_F(CliClientTest, StatusWithoutTokenWhereReadsNeedOneSaysWhereTheTokenIsRead) {
  server_->Stop();
  Serve(api::HttpServerOptions{.require_token_for_reads = true});
  options_.token = "";
  options_.token_source = "/data/token (not found)";
  EXPECT_EQ(Status(), 2);
  EXPECT_EQ(err_.str(),
            "rebound: not authorized (HTTP 401): no token; the CLI reads it from --token, "
            "REBOUND_TOKEN, or /data/token (not found)\n");
}

TEST_F(CliClientTest, RestartIsAcceptedAndExits0) {
  EXPECT_EQ(Action("restart", "api"), 0);
  EXPECT_EQ(out_.str(), "api: restart accepted (now running, pid 10000)\n");
  EXPECT_EQ(controller_.calls(), std::vector<std::string>{"restart api"});
}

TEST_F(CliClientTest, StopAndStartWithJsonOutput) {
  options_.json = true;
  EXPECT_EQ(Action("stop", "api"), 0);
  EXPECT_EQ(nlohmann::json::parse(out_.str())["state"], "stopped");
  EXPECT_EQ(Action("start", "api"), 0);
  EXPECT_EQ(controller_.calls(), (std::vector<std::string>{"stop api", "start api"}));
}

TEST_F(CliClientTest, NamesAreEncodedInThePath) {
  EXPECT_EQ(Action("stop", "my worker"), 0) << err_.str();
  EXPECT_EQ(controller_.calls(), std::vector<std::string>{"stop my worker"});
}

TEST_F(CliClientTest, UnknownServiceExits1) {
  EXPECT_EQ(Action("restart", "nope"), 1);
  EXPECT_EQ(err_.str(), "rebound: no service named \"nope\"\n");
}

TEST_F(CliClientTest, MissingTokenSaysWhereItIsRead) {
  options_.token = "";
  options_.token_source = "/data/token (not found)";
  EXPECT_EQ(Action("restart", "api"), 1);
  EXPECT_EQ(err_.str(),
            "rebound: not authorized (HTTP 401): no token; the CLI reads it from --token, "
            "REBOUND_TOKEN, or /data/token (not found)\n");
  EXPECT_TRUE(controller_.calls().empty());
}

TEST_F(CliClientTest, WrongTokenSaysWhereItCameFrom) {
  options_.token = std::string(64, 'd');
  options_.token_source = "REBOUND_TOKEN";
  EXPECT_EQ(Action("restart", "api"), 1);
  EXPECT_EQ(err_.str(),
            "rebound: not authorized (HTTP 401): the daemon rejected the token from "
            "REBOUND_TOKEN; it must equal the daemon's DATA_DIR/token (pass --data-dir, "
            "--token or set REBOUND_TOKEN)\n");
}

TEST_F(CliClientTest, ShuttingDownExits1) {
  controller_.SetShuttingDown(true);
  EXPECT_EQ(Action("restart", "api"), 1);
  EXPECT_EQ(err_.str(), "rebound: the daemon is shutting down; try again once it is back\n");
}

TEST_F(CliClientTest, OtherRefusalsShowStatusCodeAndMessage) {
  controller_.FailNextCall(ConflictError("api is already stopping"));
  EXPECT_EQ(Action("stop", "api"), 1);
  EXPECT_EQ(err_.str(), "rebound: stop api failed: HTTP 409 conflict: api is already stopping\n");
}

TEST_F(CliClientTest, BadArgumentsExit2WithoutARequest) {
  EXPECT_EQ(Action("explode", "api"), 2);
  EXPECT_EQ(err_.str(), "rebound: unknown action \"explode\" (expected start, stop or restart)\n");
  err_.str("");
  EXPECT_EQ(Action("start", ""), 2);
  EXPECT_EQ(err_.str(), "rebound: start needs a service name\n");
  EXPECT_TRUE(controller_.calls().empty());
}

TEST_F(CliClientTest, ActionWithDaemonDownExits2) {
  options_.url = "http://127.0.0.1:" + std::to_string(testing::UnusedPort());
  EXPECT_EQ(Action("restart", "api"), 2);
  EXPECT_NE(err_.str().find("(connection refused); is \"rebound serve\" running?"),
            std::string::npos);
}

}  // namespace
}  // namespace rebound::cli

namespace rebound::cli {
namespace {

TEST(ConnectFailureReasonTest, NamesTheCause) {
  EXPECT_EQ(ConnectFailureReason("127.0.0.1", testing::UnusedPort(), std::chrono::seconds(1)),
            "connection refused");
  EXPECT_EQ(ConnectFailureReason("", 80, std::chrono::seconds(1)).rfind("cannot resolve host: ", 0),
            0u);
}

TEST(ConnectFailureReasonTest, SaysSoWhenTheProbeConnects) {
  auto listening = api::ListeningSocket::Open("127.0.0.1", 0, 4);
  ASSERT_TRUE(listening.ok());
  EXPECT_EQ(ConnectFailureReason("127.0.0.1", listening->port(), std::chrono::seconds(1)),
            "connection failed");
}

}  // namespace
}  // namespace rebound::cli
