// The daemon's own API with real processes: config reload (HTTP and SIGHUP), /v1/daemon,
// service logs, the event journal and /metrics from a running `rebound serve`.

#include <gtest/gtest.h>

#include <sstream>

#include "daemon_harness.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

std::string ApiSleeper(const std::string& name, const std::string& seconds = "1000") {
  return "[services." + name + "]\ncommand = [\"sleep\", \"" + seconds + "\"]\n" +
         "stop_timeout = \"2s\"\n\n";
}

struct Answer {
  int status = 0;
  nlohmann::json json;
  std::string body;
};

Answer Send(DaemonHarness& h, const std::string& method, const std::string& path) {
  httplib::Client client("127.0.0.1", h.port());
  client.set_read_timeout(10s);
  auto token = DefaultFileSystem().ReadFile(h.dir().Path("data/token"));
  httplib::Headers headers = {{"Authorization", "Bearer " + token.value_or("")}};
  auto response = method == "POST" ? client.Post(path, headers, "", "application/json")
                                   : client.Get(path, headers);
  if (!response) {
    return {};
  }
  return {response->status, nlohmann::json::parse(response->body, nullptr, false), response->body};
}

TEST(DaemonApiTest, ReloadAddsChangesAndRemovesServicesLeavingOthersAlone) {
  DaemonHarness h;
  h.Start(ApiSleeper("keep") + ApiSleeper("change") + ApiSleeper("drop"));
  const int keep = h.WaitForPid("keep");
  const int change = h.WaitForPid("change");
  const int drop = h.WaitForPid("drop");
  ASSERT_GT(drop, 0) << h.DaemonLog();
  const std::string digest = Send(h, "GET", "/v1/daemon").json["config_digest"];

  h.WriteConfig(ApiSleeper("keep") + ApiSleeper("change", "2000") + ApiSleeper("add"));
  Answer reload = Send(h, "POST", "/v1/daemon/reload");
  ASSERT_EQ(reload.status, 200) << reload.body;
  EXPECT_EQ(reload.json["added"], nlohmann::json({"add"}));
  EXPECT_EQ(reload.json["removed"], nlohmann::json({"drop"}));
  EXPECT_EQ(reload.json["changed"], nlohmann::json({"change"}));
  EXPECT_EQ(reload.json["unchanged"], nlohmann::json({"keep"}));
  EXPECT_NE(reload.json["config_digest"], digest);

  EXPECT_GT(h.WaitForPid("add"), 0);
  const int changed = h.WaitForPid("change", change);
  EXPECT_NE(changed, change);
  auto cmdline = DefaultFileSystem().ReadFile("/proc/" + std::to_string(changed) + "/cmdline");
  EXPECT_EQ(cmdline.value_or(""), std::string("sleep\0002000\000", 11));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(drop); }));
  EXPECT_EQ(Send(h, "GET", "/v1/services/drop").status, 404);
  EXPECT_EQ(h.Pid("keep"), keep);  // untouched
  EXPECT_EQ(h.Service("keep")["restarts"], 0);
  EXPECT_EQ(Send(h, "GET", "/v1/daemon").json["config_digest"], reload.json["config_digest"]);
  auto events = Send(h, "GET", "/v1/events?category=daemon&kind=reloaded").json["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["data"]["added"], nlohmann::json({"add"}));
}

TEST(DaemonApiTest, ABadConfigIsRefusedWithItsErrorAndNothingChanges) {
  DaemonHarness h;
  h.Start(ApiSleeper("api"));
  const int pid = h.WaitForPid("api");
  ASSERT_GT(pid, 0);
  h.WriteConfig("[services.api]\ncommand = []\n");
  Answer reload = Send(h, "POST", "/v1/daemon/reload");
  EXPECT_EQ(reload.status, 422) << reload.body;
  EXPECT_EQ(reload.json["error"]["code"], "validation");
  EXPECT_NE(reload.body.find("services.api.command"), std::string::npos) << reload.body;
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(h.Pid("api"), pid);
  EXPECT_EQ(h.State("api"), "running");
}

TEST(DaemonApiTest, SighupReloadsToo) {
  DaemonHarness h;
  h.Start(ApiSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  h.WriteConfig(ApiSleeper("api") + ApiSleeper("worker"));
  ::kill(h.daemon_pid(), SIGHUP);
  EXPECT_GT(h.WaitForPid("worker"), 0) << h.DaemonLog();
  EXPECT_NE(h.DaemonLog().find("1 added, 0 removed, 0 changed, 1 unchanged"), std::string::npos)
      << h.DaemonLog();
}

TEST(DaemonApiTest, DaemonInfoLogsEventsAndMetricsFromARealDaemon) {
  DaemonHarness h;
  h.Start(
      "[services.talker]\ncommand = [\"sh\", \"-c\", \"echo hello; echo world; exec sleep "
      "1000\"]\n");
  const int pid = h.WaitForPid("talker");
  ASSERT_GT(pid, 0) << h.DaemonLog();

  Answer info = Send(h, "GET", "/v1/daemon");
  EXPECT_EQ(info.json["pid"], h.daemon_pid());
  EXPECT_EQ(info.json["config_path"], h.dir().Path("rebound.toml"));
  EXPECT_EQ(info.json["data_dir"], h.dir().Path("data"));
  EXPECT_EQ(info.json["services"], 1);

  EXPECT_TRUE(WaitUntil([&] {
    return Send(h, "GET", "/v1/services/talker/logs?lines=2").json["lines"] ==
           nlohmann::json({"hello", "world"});
  })) << Send(h, "GET", "/v1/services/talker/logs").body;

  ::kill(pid, SIGKILL);
  ASSERT_GT(h.WaitForPid("talker", pid), 0);
  auto exits = Send(h, "GET", "/v1/events?subject=talker&kind=exited").json["events"];
  ASSERT_GE(exits.size(), 1u);
  EXPECT_EQ(exits[0]["data"]["signal"], 9);
  std::string metrics;
  EXPECT_TRUE(WaitUntil([&] {
    metrics = Send(h, "GET", "/metrics").body;
    return metrics.find("rebound_service_exits_total{service=\"talker\",reason=\"signal\"} 1") !=
           std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find("rebound_service_up{service=\"talker\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("rebound_service_restarts_total{service=\"talker\"} 1"),
            std::string::npos);
}

TEST(DaemonApiTest, AnOpenEventStreamSeesTheShutdownAndDoesNotHoldItUp) {
  DaemonHarness h;
  h.Start(ApiSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  std::string received;
  std::thread follower([&] {
    httplib::Client client("127.0.0.1", h.port());
    client.set_read_timeout(10s);
    client.Get("/v1/events/stream", [&](const char* data, size_t length) {
      received.append(data, length);
      return true;
    });
  });
  std::this_thread::sleep_for(200ms);  // the stream is open
  const auto start = std::chrono::steady_clock::now();
  const int status = h.Terminate();
  follower.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << h.DaemonLog();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(received.find("event: daemon.stopping"), std::string::npos) << received;
  EXPECT_NE(received.find("event: service.stopped"), std::string::npos) << received;
  EXPECT_NE(received.find("event: daemon.stopped"), std::string::npos) << received;
}

// The "lineN" lines `output` holds, as numbers, in the order printed.
std::vector<int> CountedLines(const std::string& output) {
  std::vector<int> numbers;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("line")) {
      numbers.push_back(std::stoi(line.substr(4)));
    }
  }
  return numbers;
}

TEST(DaemonApiTest, LogsFollowCarriesOnAcrossADaemonRestartWithoutLosingOrRepeatingALine) {
  DaemonHarness h;
  h.Start(R"([services.counter]
command = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.05; done"]
stop_timeout = "2s"
)");
  ASSERT_GT(h.WaitForPid("counter"), 0);
  const std::string output = h.dir().Path("follow.out");
  const pid_t follower = SpawnProcess({REBOUND_BINARY, "logs", "counter", "-f", "-n", "1", "--url",
                                       "http://127.0.0.1:" + std::to_string(h.port())},
                                      output);
  auto printed = [&] { return CountedLines(DefaultFileSystem().ReadFile(output).value_or("")); };
  ASSERT_TRUE(WaitUntil([&] { return printed().size() >= 5; })) << h.DaemonLog();
  h.Kill();  // the service keeps writing under its shim while no daemon runs
  std::this_thread::sleep_for(500ms);
  const int printed_before_restart = printed().back();
  h.Start();
  EXPECT_TRUE(WaitUntil([&] {
    std::vector<int> lines = printed();
    return !lines.empty() && lines.back() >= printed_before_restart + 20;
  })) << DefaultFileSystem().ReadFile(output).value_or("");
  ::kill(follower, SIGTERM);
  ::waitpid(follower, nullptr, 0);
  const std::vector<int> lines = printed();
  ASSERT_FALSE(lines.empty());
  for (size_t i = 1; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i], lines[i - 1] + 1) << "a line lost or repeated at #" << i << ":\n"
                                          << DefaultFileSystem().ReadFile(output).value_or("");
  }
  EXPECT_NE(DefaultFileSystem().ReadFile(output).value_or("").find(
                "rebound: the log stream ended; reconnecting for up to 30s"),
            std::string::npos);
}

}  // namespace
}  // namespace rebound::testing
