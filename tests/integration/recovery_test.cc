// Detect and recover with real processes, seed 001's scenarios: a model server that stops
// answering, a database that hangs, and a restart of the daemon itself; plus Type=notify
// services (systemd-notify), heartbeats, the start gate and bad input.

#include <gtest/gtest.h>

#include <mutex>

#include "daemon_harness.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

// The first occurrences of `lines` in `log` come in this order.
::testing::AssertionResult InOrder(const std::string& log, const std::vector<std::string>& lines) {
  size_t from = 0;
  for (const std::string& line : lines) {
    const size_t at = log.find(line, from);
    if (at == std::string::npos) {
      return ::testing::AssertionFailure() << "missing (in order): \"" << line << "\"\n" << log;
    }
    from = at + line.size();
  }
  return ::testing::AssertionSuccess();
}

std::string ModelServer(int port, const std::string& extra = "") {
  return "[services.model_server]\ncommand = [\"" DEMO_SERVICE_PATH "\", \"" +
         std::to_string(port) + "\"]\nstop_timeout = \"2s\"\n" + extra +
         "[services.model_server.health]\ntype = \"http\"\nurl = \"http://127.0.0.1:" +
         std::to_string(port) +
         "/health\"\ninterval = \"200ms\"\ntimeout = \"200ms\"\nfailure_threshold = 3\n"
         "[services.model_server.recovery]\ncooldown = \"1s\"\n";
}

int PostTo(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Post(path, "", "application/json");
  return response ? response->status : -1;
}

// /metrics after one recovery of model_server: the figures, and promtool's verdict.
void ExpectReliabilityMetrics(DaemonHarness& h) {
  httplib::Client client("127.0.0.1", h.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  const std::string& text = metrics->body;
  for (const char* line : {"rebound_recovery_successes_total{service=\"model_server\"} 1",
                           "rebound_service_healthy{service=\"model_server\"} 1",
                           "rebound_breaker_state{service=\"model_server\",state=\"closed\"} 1",
                           "rebound_probe_results_total{service=\"model_server\",result=\"failure\"}",
                           "rebound_probe_duration_seconds_count{service=\"model_server\",type=\"http\"}",
                           "rebound_mttr_seconds "}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  const std::string file = h.dir().Path("metrics.txt");
  std::ofstream(file) << text;
  const std::string command = std::string(PROMTOOL_PATH) + " check metrics < " + file + " 2>&1";
  FILE* promtool = ::popen(command.c_str(), "r");
  std::string verdict;
  char buffer[256];
  while (promtool != nullptr && ::fgets(buffer, sizeof(buffer), promtool) != nullptr) {
    verdict += buffer;
  }
  EXPECT_EQ(promtool != nullptr ? ::pclose(promtool) : -1, 0) << verdict;
  EXPECT_EQ(verdict, "");  // no lint findings either
}

TEST(RecoveryTest, AModelServerThatStopsAnsweringIsRecovered) {
  DaemonHarness h;
  const int port = FreeLoopbackPort();
  h.Start(ModelServer(port));
  ASSERT_TRUE(WaitUntil([&] { return h.Service("model_server")["health"] == "healthy"; }))
      << h.DaemonLog();
  const int first = h.Pid("model_server");
  ASSERT_EQ(PostTo(port, "/hang"), 200);
  ASSERT_TRUE(WaitUntil([&] {
    auto status = h.Get("/reliability");
    return status && (*status)["auto_recovery"]["model_server"]["successes_total"] == 1;
  })) << h.DaemonLog();
  EXPECT_NE(h.Pid("model_server"), first);  // restarted
  EXPECT_TRUE(InOrder(h.DaemonLog(),
                      {"Health check failed for model_server: GET http://127.0.0.1:" +
                           std::to_string(port) + "/health: no complete response within 200ms",
                       "Triggering recovery for: model_server (attempt 1/3)",
                       "Restarting model_server to recover it",
                       "model_server is healthy (was starting)",
                       "Recovery successful for: model_server"}));
  auto status = *h.Get("/reliability");
  EXPECT_EQ(status["circuit_breakers"]["model_server"]["state"], "closed");
  EXPECT_EQ(status["health_monitor"]["model_server"]["status"], "healthy");
  EXPECT_GT(status["health_monitor"]["model_server"]["failures_total"], 0);
  EXPECT_TRUE(status["mttr_seconds"].is_number());
  EXPECT_EQ(status["graceful_shutdown"]["shutting_down"], false);
  EXPECT_EQ((*h.Get("/health"))["status"], "healthy");
  ExpectReliabilityMetrics(h);
}

TEST(RecoveryTest, ClientReportsOpenTheBreakerWhichTriggersRecovery) {
  DaemonHarness h;
  const int port = FreeLoopbackPort();
  h.Start(ModelServer(port, "breaker = { window = 4, minimum_calls = 4, failure_rate = 0.5 }\n"));
  ASSERT_TRUE(WaitUntil([&] { return h.Service("model_server")["health"] == "healthy"; }));
  const int first = h.Pid("model_server");
  for (int i = 0; i < 4; ++i) {
    auto [code, body] = h.PostJson("/v1/services/model_server/report",
                                   R"({"success": false, "latency_ms": 900})");
    ASSERT_EQ(code, 200) << body;
  }
  ASSERT_TRUE(WaitUntil([&] { return h.Pid("model_server") != first; })) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] {
    return h.DaemonLog().find("Recovery successful for: model_server") != std::string::npos;
  })) << h.DaemonLog();
  EXPECT_TRUE(InOrder(h.DaemonLog(),
                      {"Circuit breaker 'model_server' opened, triggering auto-recovery",
                       "Triggering recovery for: model_server (attempt 1/3)",
                       "Circuit breaker 'model_server': Transitioning to CLOSED",
                       "Recovery successful for: model_server"}));
}

TEST(RecoveryTest, AHungDatabaseIsDetectedAndRestartedThenServesAgain) {
  DaemonHarness h;
  const std::string port = std::to_string(FreeLoopbackPort());
  h.Start("[services.db]\ncommand = [\"redis-server\", \"--port\", \"" + port +
          "\", \"--bind\", \"127.0.0.1\", \"--save\", \"\", \"--appendonly\", \"no\"]\n"
          "stop_timeout = \"500ms\"\n"
          "health = { type = \"exec\", command = [\"redis-cli\", \"-p\", \"" + port +
          "\", \"ping\"], interval = \"200ms\", timeout = \"300ms\", failure_threshold = 2 }\n"
          "recovery = { cooldown = \"1s\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.Service("db")["health"] == "healthy"; })) << h.DaemonLog();
  const int first = h.Pid("db");
  ::kill(first, SIGSTOP);  // the connection hangs: nothing answers, nothing exits
  ASSERT_TRUE(WaitUntil([&] {
    return h.DaemonLog().find("Recovery successful for: db") != std::string::npos;
  }, 15s)) << h.DaemonLog();
  EXPECT_NE(h.Pid("db"), first);
  EXPECT_TRUE(InOrder(h.DaemonLog(), {"Health check failed for db: exec redis-cli: timed out",
                                      "Triggering recovery for: db (attempt 1/3)",
                                      "sending SIGKILL", "db is healthy (was starting)",
                                      "Recovery successful for: db"}));
}

TEST(RecoveryTest, AfterADaemonCrashHealthIsWatchedAgainWithoutARestart) {
  DaemonHarness h;
  const int port = FreeLoopbackPort();
  h.Start(ModelServer(port));
  ASSERT_TRUE(WaitUntil([&] { return h.Service("model_server")["health"] == "healthy"; }));
  const int pid = h.Pid("model_server");
  h.Kill();  // kill -9: the service keeps running under its shim
  ASSERT_TRUE(ProcessAlive(pid));
  h.Start();
  ASSERT_TRUE(WaitUntil([&] { return h.Service("model_server")["health"] == "healthy"; }))
      << h.DaemonLog();
  EXPECT_EQ(h.Pid("model_server"), pid);  // re-adopted, not restarted
  ASSERT_EQ(PostTo(port, "/hang"), 200);  // and still recovered when it fails
  ASSERT_TRUE(WaitUntil([&] { return h.Pid("model_server") != pid &&
                                     h.Service("model_server")["health"] == "healthy"; }))
      << h.DaemonLog();
}

TEST(RecoveryTest, ADependentWaitsUntilItsDependencyIsHealthy) {
  DaemonHarness h;
  const int port = FreeLoopbackPort();
  h.Start(ModelServer(port) +
          "[services.worker]\ncommand = [\"sleep\", \"1000\"]\n"
          "depends_on = { model_server = \"healthy\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.State("worker") == "running"; })) << h.DaemonLog();
  EXPECT_TRUE(InOrder(h.DaemonLog(), {"worker: waiting: waiting for model_server (healthy)",
                                      "model_server is healthy (was starting)",
                                      "worker: starting"}));
}

TEST(RecoveryTest, SystemdNotifyServicesWorkUnchanged) {
  DaemonHarness h;
  h.Start(
      "[services.notifier]\ncommand = [\"sh\", \"-c\", \"sleep 0.3; systemd-notify --ready "
      "--status=serving; i=0; while [ $i -lt 15 ]; do systemd-notify WATCHDOG=1; sleep 0.1; "
      "i=$((i+1)); done; exec sleep 1000\"]\n"
      "stop_timeout = \"1s\"\n"
      "health = { type = \"notify\", watchdog = \"600ms\", failure_threshold = 1 }\n"
      "recovery = { cooldown = \"0s\" }\n"
      "[services.after]\ncommand = [\"sleep\", \"1000\"]\n"
      "depends_on = { notifier = \"healthy\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.State("after") == "running"; })) << h.DaemonLog();
  EXPECT_EQ(h.Service("notifier")["status_text"], "serving");
  const int first = h.Pid("notifier");
  // It stops sending WATCHDOG=1: the watchdog fires and recovery restarts it.
  ASSERT_TRUE(WaitUntil([&] { return h.Pid("notifier") != first && h.Pid("notifier") != 0; }))
      << h.DaemonLog();
  EXPECT_TRUE(InOrder(h.DaemonLog(),
                      {"notifier is healthy (was starting)",
                       "Health check failed for notifier: no WATCHDOG=1 within 600ms",
                       "Triggering recovery for: notifier (attempt 1/3)"}));
}

TEST(RecoveryTest, HeartbeatsKeepAServiceHealthyAndTheirAbsenceRecoversIt) {
  DaemonHarness h;
  h.Start(
      "[services.beater]\ncommand = [\"sh\", \"-c\", \"for i in 1 2 3 4 5; do curl -sf -X POST "
      "-H \\\"Authorization: Bearer $(cat $REBOUND_TOKEN_FILE)\\\" $REBOUND_HEARTBEAT_URL "
      ">/dev/null; sleep 0.1; done; exec sleep 1000\"]\n"
      "stop_timeout = \"1s\"\n"
      "health = { type = \"heartbeat\", interval = \"400ms\", failure_threshold = 1 }\n"
      "recovery = { cooldown = \"0s\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.Service("beater")["health"] == "healthy"; }))
      << h.DaemonLog();
  const int first = h.Pid("beater");
  ASSERT_TRUE(WaitUntil([&] { return h.Pid("beater") != first && h.Pid("beater") != 0; }))
      << h.DaemonLog();
  EXPECT_TRUE(InOrder(h.DaemonLog(), {"Health check failed for beater: no heartbeat within 400ms",
                                      "Triggering recovery for: beater (attempt 1/3)"}));
}

TEST(RecoveryTest, ExhaustedRecoveryNotifiesTheWebhook) {
  httplib::Server webhook;
  std::mutex mutex;
  std::vector<nlohmann::json> received;
  webhook.Post("/alerts", [&](const httplib::Request& request, httplib::Response& response) {
    std::lock_guard lock(mutex);
    received.push_back(nlohmann::json::parse(request.body, nullptr, false));
    response.status = 204;
  });
  const int port = webhook.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { webhook.listen_after_bind(); });
  DaemonHarness h;
  // Its probe always fails: every attempt fails its verification.
  h.Start("[services.broken]\ncommand = [\"sleep\", \"1000\"]\nstop_timeout = \"1s\"\n"
          "health = { type = \"exec\", command = [\"false\"], interval = \"100ms\", "
          "failure_threshold = 1 }\n"
          "recovery = { max_attempts = 2, delay = \"0s\", verify_timeout = \"300ms\", "
          "notify_url = \"http://127.0.0.1:" + std::to_string(port) + "/alerts\" }\n");
  const bool notified = WaitUntil([&] {
    std::lock_guard lock(mutex);
    return !received.empty();
  }, 15s);
  webhook.stop();
  serving.join();
  ASSERT_TRUE(notified) << h.DaemonLog();
  EXPECT_EQ(received[0]["service"], "broken");
  EXPECT_EQ(received[0]["event"], "needs_manual_intervention");
  EXPECT_EQ(received[0]["attempts"], 2);
  EXPECT_EQ(h.Service("broken")["recovery"], "needs_manual_intervention");
  EXPECT_TRUE(InOrder(h.DaemonLog(), {"Triggering recovery for: broken (attempt 1/2)",
                                      "Recovery failed for: broken: not healthy within 300ms",
                                      "Triggering recovery for: broken (attempt 2/2)",
                                      "Recovery for broken gave up after 2 attempts"}));
}

TEST(RecoveryTest, TheMemoryWatchdogRestartsAServiceOverItsLimit) {
  DaemonHarness h;
  // Keys before the first table header extend the harness's [daemon] table. A python3
  // process holds several MB resident: over a 1MB limit.
  h.Start("memory_check_interval = \"100ms\"\n"
          "[services.hog]\ncommand = [\"python3\", \"-c\", \"import time; time.sleep(1000)\"]\n"
          "memory = { max_rss = \"1MB\" }\n");
  const int first = h.WaitForPid("hog");
  ASSERT_TRUE(WaitUntil([&] { return h.Pid("hog") != first && h.Pid("hog") != 0; }))
      << h.DaemonLog();
  const std::string log = h.DaemonLog();
  EXPECT_NE(log.find("memory_exceeded: hog: RSS "), std::string::npos) << log;
  EXPECT_NE(log.find(" over its limit of 1MB; action: restart"), std::string::npos) << log;
}

TEST(RecoveryTest, CliTriggersAndResets) {
  DaemonHarness h;
  h.Start("[services.api]\ncommand = [\"sleep\", \"1000\"]\n");
  const int first = h.WaitForPid("api");
  const std::string out = h.dir().Path("cli.out");
  auto run = [&](const std::string& action, const std::string& name) {
    const pid_t pid =
        SpawnProcess({REBOUND_BINARY, "-c", h.dir().Path("rebound.toml"), action, name}, out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WEXITSTATUS(status);
  };
  EXPECT_EQ(run("trigger", "api"), 0);
  const int second = h.WaitForPid("api", first);  // recovery restarted it
  EXPECT_NE(second, 0);
  EXPECT_NE(second, first);
  EXPECT_EQ(run("reset", "api"), 0);
  EXPECT_EQ(run("trigger", "nope"), 1);
  std::ifstream in(out);
  const std::string printed(std::istreambuf_iterator<char>(in), {});
  EXPECT_NE(printed.find("Recovery triggered for api\n"), std::string::npos) << printed;
  EXPECT_NE(printed.find("Circuit breaker and recovery state reset for api\n"),
            std::string::npos);
  EXPECT_NE(printed.find("rebound: no service named \"nope\""), std::string::npos);
}

TEST(RecoveryTest, AReloadAddsAHealthCheckWithoutRestartingAndRemovesOne) {
  DaemonHarness h;
  const int port = FreeLoopbackPort();
  const std::string model = "[services.model_server]\ncommand = [\"" DEMO_SERVICE_PATH "\", \"" +
                            std::to_string(port) + "\"]\n";
  h.Start(model);
  const int pid = h.WaitForPid("model_server");
  EXPECT_EQ(h.Service("model_server")["health"], "none");
  h.WriteConfig(model + "health = { type = \"tcp\", address = \"127.0.0.1:" +
                std::to_string(port) + "\", interval = \"100ms\" }\n");
  auto [reloaded, outcome] = h.PostJson("/v1/daemon/reload", "");
  ASSERT_EQ(reloaded, 200) << outcome;
  EXPECT_EQ(outcome["changed"], nlohmann::json({"model_server"}));
  ASSERT_TRUE(WaitUntil([&] { return h.Service("model_server")["health"] == "healthy"; }))
      << h.DaemonLog();
  EXPECT_EQ(h.Pid("model_server"), pid);  // only how it is watched changed: no restart
  h.WriteConfig(model);
  ASSERT_EQ(h.PostJson("/v1/daemon/reload", "").first, 200);
  EXPECT_EQ(h.Service("model_server")["health"], "none");
  EXPECT_EQ(h.Pid("model_server"), pid);
}

TEST(RecoveryTest, BadRequestsGetJsonErrors) {
  DaemonHarness h;
  h.Start("[services.api]\ncommand = [\"sleep\", \"1000\"]\n");
  auto [unknown, body] = h.PostJson("/v1/heartbeat/nope", "");
  EXPECT_EQ(unknown, 404);
  EXPECT_EQ(body["error"]["code"], "not_found");
  auto [no_probe, conflict] = h.PostJson("/v1/heartbeat/api", "");
  EXPECT_EQ(no_probe, 409);
  EXPECT_NE(conflict["error"]["message"].get<std::string>().find("type = \"heartbeat\""),
            std::string::npos);
  auto [missing, invalid] = h.PostJson("/v1/services/api/report", R"({"latency_ms": 3})");
  EXPECT_EQ(missing, 422);
  EXPECT_NE(invalid["error"]["message"].get<std::string>().find("\"success\""),
            std::string::npos);
  EXPECT_EQ(h.PostJson("/v1/services/api/report", R"({"success": true, "latency_ms": -1})").first,
            422);
  EXPECT_EQ(h.PostJson("/reliability/auto-recovery/nope/trigger", "").first, 404);
  EXPECT_EQ(h.PostJson("/reliability/circuit-breaker/nope/reset", "").first, 404);
  auto [reset, answer] = h.PostJson("/reliability/circuit-breaker/api/reset", "");
  EXPECT_EQ(reset, 200);
  EXPECT_EQ(answer["circuit_breaker"]["state"], "closed");
  auto [triggered, recovery] = h.PostJson("/reliability/auto-recovery/api/trigger", "");
  EXPECT_EQ(triggered, 202);
  EXPECT_EQ(recovery["service"], "api");
}

}  // namespace
}  // namespace rebound::testing
