// The CLI's events, logs, state, daemon and reload commands against a real HTTP server on
// 127.0.0.1 (real store in a temp dir, fake engine).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "api/daemon_routes.h"
#include "api/event_routes.h"
#include "api/http_server.h"
#include "api/log_routes.h"
#include "api/state_routes.h"
#include "cli/daemon_commands.h"
#include "cli/event_commands.h"
#include "http_test_util.h"
#include "store/store.h"
#include "testing/fake_daemon_controller.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::cli {
namespace {

using namespace std::chrono_literals;
const std::string kCommandsToken(64, 'k');

class CliCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::Open(dir_.Path("data")));
    controller_.AddService({.name = "api", .state = "running"});
    Serve(0);
    options_.url = "http://127.0.0.1:" + std::to_string(server_->port());
    options_.token = kCommandsToken;
    options_.token_source = "/data/token";
  }
  // A new server with every route, on `port` (0: ephemeral), as a restarted daemon would be.
  void Serve(int port) {
    server_ = std::make_unique<api::HttpServer>();
    api::RegisterLogRoutes(*server_, controller_, DefaultFileSystem(), dir_.path());
    api::RegisterEventRoutes(*server_, store_->journal(), DefaultClock(),
                             {.poll_interval = 50ms, .heartbeat_interval = 1s});
    api::RegisterStateRoutes(*server_, store_->states());
    api::RegisterDaemonRoutes(*server_, daemon_);
    ASSERT_TRUE(server_->Start("127.0.0.1", port, kCommandsToken).ok());
  }
  void TearDown() override {
    server_->Stop();
    store_->Close();
  }
  void Append(const std::string& kind, const std::string& subject, int64_t time_ms = 0) {
    ASSERT_TRUE(store_->journal()
                    .Append({.time_ms = time_ms,
                             .category = "service",
                             .kind = kind,
                             .subject = subject,
                             .data = {{"message", kind + " " + subject}}})
                    .get()
                    .ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  testing::FakeServiceController controller_;
  testing::FakeDaemonController daemon_;
  std::unique_ptr<api::HttpServer> server_;
  ClientOptions options_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliCommandsTest, EventsPrintsOneReadableLinePerEvent) {
  Append("exited", "api", 1700000000123);
  Append("started", "db", 1700000000456);
  EXPECT_EQ(RunEvents(options_, {.subject = "api"}, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), "2023-11-14T22:13:20.123Z  #1  service.exited  api  exited api\n");
}

TEST_F(CliCommandsTest, EventsJsonIsOneObjectPerLine) {
  Append("exited", "api");
  Append("started", "api");
  options_.json = true;
  EXPECT_EQ(RunEvents(options_, {.limit = 5}, out_, err_), 0);
  std::istringstream lines(out_.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(nlohmann::json::parse(line)["subject"], "api");
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST_F(CliCommandsTest, EventsWithABadSinceExits1WithTheDaemonsMessage) {
  EXPECT_EQ(RunEvents(options_, {.since = "yesterday"}, out_, err_), 1);
  EXPECT_NE(err_.str().find("\"since\""), std::string::npos) << err_.str();
}

TEST_F(CliCommandsTest, EventsFollowPrintsHistoryThenLiveEventsUntilTheStreamEnds) {
  Append("started", "api");
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    Append("exited", "api");
    std::this_thread::sleep_for(300ms);
    server_->Stop();
  });
  const int code =
      RunEvents(options_, {.after = 0, .follow = true, .reconnect_for = 0s}, out_, err_);
  later.join();
  EXPECT_EQ(code, 2);
  EXPECT_NE(out_.str().find("#1  service.started"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("#2  service.exited"), std::string::npos) << out_.str();
  EXPECT_NE(err_.str().find("ended the event stream"), std::string::npos) << err_.str();
}

TEST_F(CliCommandsTest, EventsFollowResumesAfterADaemonRestartMissingNothing) {
  Append("started", "api");
  const int port = server_->port();
  std::thread daemon_restarts([&] {
    std::this_thread::sleep_for(300ms);
    server_->Stop();
    Append("exited", "api");  // while the daemon is down
    Serve(port);
    std::this_thread::sleep_for(1500ms);  // the follower reconnects within a second
    Append("started", "db");
    std::this_thread::sleep_for(300ms);
    server_->Stop();  // for good: the follower gives up after reconnect_for
  });
  const int code = RunEvents(options_, {.follow = true, .reconnect_for = 1s}, out_, err_);
  daemon_restarts.join();
  EXPECT_EQ(code, 2);
  const std::string out = out_.str();
  EXPECT_EQ(out.find("#1  "), std::string::npos) << out;  // before the follow began
  EXPECT_NE(out.find("#2  service.exited  api"), std::string::npos) << out << err_.str();
  EXPECT_NE(out.find("#3  service.started  db"), std::string::npos) << out;
  EXPECT_EQ(out.find("#2  "), out.rfind("#2  ")) << "printed twice: " << out;
  EXPECT_NE(err_.str().find("reconnecting for up to 1s, resuming after #1"), std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("rebound: cannot reach the daemon"), std::string::npos) << err_.str();
}

TEST_F(CliCommandsTest, LogsPrintsTheLastLines) {
  std::ofstream(dir_.Path("api.log")) << "a\nb\nc\n";
  EXPECT_EQ(RunLogs(options_, {.service = "api", .lines = 2}, out_, err_), 0);
  EXPECT_EQ(out_.str(), "b\nc\n");
  options_.json = true;
  out_.str("");
  EXPECT_EQ(RunLogs(options_, {.service = "api", .lines = 1}, out_, err_), 0);
  EXPECT_EQ(out_.str(), "{\"lines\":[\"c\"],\"service\":\"api\"}\n");
  EXPECT_EQ(RunLogs(options_, {.service = "nope"}, out_, err_), 1);
  EXPECT_EQ(err_.str(), "rebound: no service named \"nope\"\n");
}

TEST_F(CliCommandsTest, LogsFollowPrintsNewLinesUntilTheStreamEnds) {
  std::ofstream(dir_.Path("api.log")) << "a\nb\n";
  std::thread later([&] {
    std::this_thread::sleep_for(300ms);
    std::ofstream(dir_.Path("api.log"), std::ios::app) << "c\n";
    std::this_thread::sleep_for(600ms);
    server_->Stop();
  });
  const int code = RunLogs(
      options_, {.service = "api", .lines = 1, .follow = true, .reconnect_for = 0s}, out_, err_);
  later.join();
  EXPECT_EQ(code, 2);
  EXPECT_EQ(out_.str(), "b\nc\n");
  EXPECT_EQ(err_.str(), "rebound: the daemon ended the log stream (shutting down?)\n");
}

TEST_F(CliCommandsTest, LogsFollowResumesAfterADaemonRestartMissingNothing) {
  auto append = [this](const std::string& line) {
    std::ofstream(dir_.Path("api.log"), std::ios::app) << line << "\n";
  };
  append("a");
  append("b");
  const int port = server_->port();
  std::thread daemon_restarts([&] {
    std::this_thread::sleep_for(300ms);
    append("c");
    std::this_thread::sleep_for(500ms);  // the stream polls the file every 250 ms
    server_->Stop();
    append("d");  // while the daemon is down
    Serve(port);
    std::this_thread::sleep_for(1500ms);  // the follower reconnects within a second
    append("e");
    std::this_thread::sleep_for(500ms);
    server_->Stop();  // for good: the follower gives up after reconnect_for
  });
  const int code = RunLogs(
      options_, {.service = "api", .lines = 1, .follow = true, .reconnect_for = 1s}, out_, err_);
  daemon_restarts.join();
  EXPECT_EQ(code, 2);
  EXPECT_EQ(out_.str(), "b\nc\nd\ne\n") << err_.str();  // each line once, in order
  EXPECT_NE(err_.str().find("rebound: the log stream ended; reconnecting for up to 1s, resuming "
                            "after the last line printed"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(err_.str().find("rebound: cannot reach the daemon"), std::string::npos) << err_.str();
}

TEST_F(CliCommandsTest, StatePutThenGetAndAStaleIfMatchExits1) {
  EXPECT_EQ(RunStatePut(options_, {.module = "llm", .document = R"({"model": "a"})"}, out_, err_),
            0)
      << err_.str();
  EXPECT_EQ(out_.str(), "llm: stored version 1\n");
  out_.str("");
  EXPECT_EQ(RunStateGet(options_, "llm", out_, err_), 0);
  EXPECT_NE(out_.str().find("# llm version 1, updated "), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("\"model\": \"a\""), std::string::npos) << out_.str();
  EXPECT_EQ(RunStatePut(options_, {.module = "llm", .document = "{}", .if_match = 1}, out_, err_),
            0);
  EXPECT_EQ(RunStatePut(options_, {.module = "llm", .document = "{}", .if_match = 1}, out_, err_),
            1);
  EXPECT_NE(err_.str().find("HTTP 409 conflict"), std::string::npos) << err_.str();
}

TEST_F(CliCommandsTest, StatePutRefusesANonObjectWithoutARequest) {
  EXPECT_EQ(RunStatePut(options_, {.module = "llm", .document = "[1]"}, out_, err_), 2);
  EXPECT_NE(err_.str().find("must be a JSON object"), std::string::npos);
  EXPECT_EQ(RunStateGet(options_, "llm", out_, err_), 1);  // nothing was written
}

TEST_F(CliCommandsTest, DaemonPrintsItsInfo) {
  daemon_.SetInfo({.version = "0.1.0", .config_path = "/etc/rebound.toml", .config_digest = "ab"});
  EXPECT_EQ(RunDaemonInfo(options_, out_, err_), 0);
  EXPECT_NE(out_.str().find("version        0.1.0\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("config digest  ab\n"), std::string::npos) << out_.str();
}

TEST_F(CliCommandsTest, ReloadPrintsWhatChangedOrTheConfigErrorWithExit1) {
  daemon_.SetReloadResult(engine::ReloadOutcome{.added = {"c"}, .config_digest = "ff"});
  EXPECT_EQ(RunReload(options_, out_, err_), 0);
  EXPECT_NE(out_.str().find("  added      c\n"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("  removed    -\n"), std::string::npos) << out_.str();
  daemon_.SetReloadResult(ValidationError("rebound.toml:3: services.a.command: must not be empty"));
  EXPECT_EQ(RunReload(options_, out_, err_), 1);
  EXPECT_EQ(err_.str(),
            "rebound: reload failed: HTTP 422 validation: rebound.toml:3: services.a.command: "
            "must not be empty\n");
}

TEST_F(CliCommandsTest, DaemonDownIsOneLineAndExit2ForEveryCommand) {
  options_.url = "http://127.0.0.1:" + std::to_string(testing::UnusedPort());
  for (int code :
       {RunDaemonInfo(options_, out_, err_), RunReload(options_, out_, err_),
        RunEvents(options_, {}, out_, err_), RunLogs(options_, {.service = "a"}, out_, err_),
        RunStateGet(options_, "m", out_, err_)}) {
    EXPECT_EQ(code, 2);
  }
  std::istringstream lines(err_.str());
  std::string line;
  while (std::getline(lines, line)) {
    EXPECT_TRUE(line.starts_with("rebound: cannot reach the daemon at ")) << line;
  }
}

}  // namespace
}  // namespace rebound::cli
