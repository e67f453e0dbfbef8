// Module sources and restore targets for real: an HTTP server on 127.0.0.1, files and
// commands, first through the transport itself, then through the CLI and a running daemon.

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <mutex>
#include <thread>

#include "cli_runner.h"
#include "daemon_harness.h"
#include "snapshot/module_endpoint.h"
#include "store/store.h"

namespace rebound::testing {
namespace {

using snapshot::EndpointKind;
using snapshot::ModuleEndpoint;

// An application's state endpoint: GET answers the state, PUT replaces it.
class StateServer {
 public:
  explicit StateServer(std::string state) : state_(std::move(state)) {
    server_.Get("/state", [this](const httplib::Request&, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      response.set_content(state_, "application/json");
    });
    server_.Put("/state", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      state_ = request.body;
      ++puts_;
      response.status = 204;
    });
    server_.Post("/alerts", [this](const httplib::Request& request, httplib::Response&) {
      std::lock_guard lock(mutex_);
      alerts_.push_back(request.body);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitUntil([this] { return server_.is_running(); });
  }
  ~StateServer() { Stop(); }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/state"; }
  std::string state() {
    std::lock_guard lock(mutex_);
    return state_;
  }
  void set_state(std::string state) {
    std::lock_guard lock(mutex_);
    state_ = std::move(state);
  }
  int puts() {
    std::lock_guard lock(mutex_);
    return puts_;
  }
  std::string AlertsUrl() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/alerts";
  }
  std::vector<std::string> alerts() {
    std::lock_guard lock(mutex_);
    return alerts_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::string state_;
  int puts_ = 0;
  std::vector<std::string> alerts_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ModuleEndpointTransportTest, ReadsAndWritesOverHttp) {
  StateServer server(R"({"model": "gpt-4"})");
  snapshot::EndpointTransport& transport = snapshot::DefaultEndpointTransport();
  const ModuleEndpoint url{.kind = EndpointKind::kUrl, .location = server.Url()};
  auto pulled = snapshot::PullModuleState(transport, url);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ((*pulled)["model"], "gpt-4");
  ASSERT_TRUE(transport.Write(url, R"({"model": "gpt-3"})").ok());
  EXPECT_EQ(server.state(), R"({"model": "gpt-3"})");
  const ModuleEndpoint missing{.kind = EndpointKind::kUrl, .location = server.Url() + "/nope"};
  EXPECT_EQ(transport.Read(missing).error().category(), ErrorCategory::kNotFound);
  server.Stop();
  auto refused = transport.Read(url);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().category(), ErrorCategory::kNetwork) << refused.error().message();
}

TEST(ModuleEndpointTransportTest, ReadsAndWritesFilesAndCommands) {
  TempDir dir;
  snapshot::EndpointTransport& transport = snapshot::DefaultEndpointTransport();
  const ModuleEndpoint file{.kind = EndpointKind::kFile, .location = dir.Path("state.json")};
  ASSERT_TRUE(transport.Write(file, R"({"n": 1})").ok());
  EXPECT_EQ(*transport.Read(file), R"({"n": 1})");

  const ModuleEndpoint dump{.kind = EndpointKind::kCommand,
                            .command = {"sh", "-c", "echo '{\"n\": 2}'"}};
  EXPECT_EQ((*snapshot::PullModuleState(transport, dump))["n"], 2);
  const ModuleEndpoint load{.kind = EndpointKind::kCommand,
                            .command = {"sh", "-c", "cat > '" + dir.Path("loaded.json") + "'"}};
  ASSERT_TRUE(transport.Write(load, R"({"n": 3})").ok());
  EXPECT_EQ(ReadText(dir.Path("loaded.json")), R"({"n": 3})");

  const ModuleEndpoint failing{.kind = EndpointKind::kCommand,
                               .command = {"sh", "-c", "echo broken >&2; exit 3"}};
  auto failed = transport.Read(failing);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(), "exited with code 3: broken");
  const ModuleEndpoint hanging{.kind = EndpointKind::kCommand,
                               .command = {"sh", "-c", "sleep 30 & sleep 30"},
                               .timeout = std::chrono::milliseconds(200)};
  auto timed_out = transport.Write(hanging, "{}");
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().category(), ErrorCategory::kTimeout);
  // Closing its output is not finishing: one that goes on after it is killed at the timeout
  // too (the wait for its exit used to have no deadline).
  const ModuleEndpoint silent{.kind = EndpointKind::kCommand,
                              .command = {"sh", "-c", "exec >&- 2>&-; sleep 30"},
                              .timeout = std::chrono::milliseconds(200)};
  auto silent_hang = transport.Write(silent, "{}");
  ASSERT_FALSE(silent_hang.ok());
  EXPECT_EQ(silent_hang.error().category(), ErrorCategory::kTimeout);
  // A target that exits 0 without reading all of its stdin succeeds.
  const ModuleEndpoint deaf{.kind = EndpointKind::kCommand, .command = {"true"}};
  EXPECT_TRUE(transport.Write(deaf, std::string(4 << 20, ' ')).ok());
  const ModuleEndpoint absent{.kind = EndpointKind::kCommand, .command = {"/no/such/program"}};
  EXPECT_FALSE(transport.Read(absent).ok());
}

// Creates the data directory the offline CLI works on (as a first `rebound serve` would).
void CreateDataDir(const DaemonHarness& h) {
  auto store = store::Store::Open(h.dir().Path("data"));
  ASSERT_TRUE(store.ok()) << store.error().message();
}

std::string ModulesConfig(const DaemonHarness& h, const StateServer& server) {
  return "[services.api]\ncommand = [\"sleep\", \"1000\"]\n\n"
         "[snapshots.modules.web]\n"
         "source = { url = \"" + server.Url() + "\" }\n"
         "restore = { url = \"" + server.Url() + "\" }\n"
         "required = true\n"
         "[snapshots.modules.cache]\n"
         "source = { file = \"" + h.dir().Path("cache.json") + "\" }\n"
         "restore = { file = \"" + h.dir().Path("cache.json") + "\" }\n"
         "[snapshots.modules.jobs]\n"
         "source = { command = [\"cat\", \"" + h.dir().Path("jobs.json") + "\"] }\n"
         "restore = { command = [\"sh\", \"-c\", \"cat > '" + h.dir().Path("jobs.json") +
         "'\"] }\n"
         "timeout = \"5s\"\n";
}

TEST(SnapshotEndpointsIntegrationTest, CaptureAndRecoverPullFromAndPushToEveryKindOfEndpoint) {
  DaemonHarness h;
  StateServer server(R"({"model": "gpt-4", "api_token": "t-live"})");
  std::ofstream(h.dir().Path("cache.json")) << R"({"entries": 10})";
  std::ofstream(h.dir().Path("jobs.json")) << R"({"queued": 3})";
  h.WriteConfig(ModulesConfig(h, server));
  CreateDataDir(h);

  CliResult captured = RunCli(h, "capture -m good");
  ASSERT_EQ(captured.exit_code, 0) << captured.output;
  const std::string document = ReadText(h.dir().Path("data/recovery.json"));
  EXPECT_NE(document.find("\"model\": \"gpt-4\""), std::string::npos) << document;
  EXPECT_EQ(document.find("t-live"), std::string::npos);  // redacted
  EXPECT_NE(document.find("\"entries\": 10"), std::string::npos);
  EXPECT_NE(document.find("\"queued\": 3"), std::string::npos);

  server.set_state(R"({"model": "broken", "api_token": "t-live"})");
  std::ofstream(h.dir().Path("cache.json")) << R"({"entries": 0})";
  std::ofstream(h.dir().Path("jobs.json")) << R"({"queued": 0})";
  CliResult planned = RunCli(h, "recover --dry-run");
  ASSERT_EQ(planned.exit_code, 0) << planned.output;
  EXPECT_NE(planned.output.find("module web: create, then pushed to url " + server.Url()),
            std::string::npos)
      << planned.output;
  EXPECT_EQ(server.puts(), 0);

  h.Start();  // the daemon runs the recovery now
  CliResult recovered = RunCli(h, "recover");
  ASSERT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_NE(recovered.output.find("restored module jobs"), std::string::npos) << recovered.output;
  EXPECT_EQ(nlohmann::json::parse(server.state())["model"], "gpt-4");
  EXPECT_EQ(nlohmann::json::parse(ReadText(h.dir().Path("cache.json")))["entries"], 10);
  EXPECT_EQ(nlohmann::json::parse(ReadText(h.dir().Path("jobs.json")))["queued"], 3);
}

TEST(SnapshotEndpointsIntegrationTest, ARequiredSourceDownFailsTheCaptureAndATargetDownTheRecovery) {
  DaemonHarness h;
  auto server = std::make_unique<StateServer>(R"({"model": "gpt-4"})");
  std::ofstream(h.dir().Path("cache.json")) << R"({"entries": 10})";
  std::ofstream(h.dir().Path("jobs.json")) << R"({"queued": 3})";
  h.WriteConfig(ModulesConfig(h, *server));
  CreateDataDir(h);
  ASSERT_EQ(RunCli(h, "capture -m good").exit_code, 0);
  server->Stop();

  CliResult refused = RunCli(h, "capture -m down");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;  // the source is unreachable
  EXPECT_NE(refused.output.find("required module web: source url " + server->Url()),
            std::string::npos)
      << refused.output;

  CliResult recovered = RunCli(h, "--json recover");
  EXPECT_EQ(recovered.exit_code, 1) << recovered.output;
  // stdout's JSON follows the warning the offline recovery logs on stderr.
  const size_t json_start = recovered.output.find("\n{");
  ASSERT_NE(json_start, std::string::npos) << recovered.output;
  nlohmann::json answer = nlohmann::json::parse(recovered.output.substr(json_start));
  EXPECT_EQ(answer["ok"], false);
  // Modules go in name order: cache and jobs are restored, web's target fails.
  EXPECT_EQ(answer["modules"]["restored"].size(), 2u) << answer.dump(2);
  EXPECT_EQ(answer["modules"]["failed"]["module"], "web");
  EXPECT_EQ(answer["modules"]["failed"]["step"], "target");
}

TEST(SnapshotEndpointsIntegrationTest, TheDaemonVerifiesRestartedServicesJournalsAndNotifies) {
  DaemonHarness h;
  StateServer webhook("{}");
  h.Start("[snapshots]\nverify_timeout = \"3s\"\n"
          "[services.api]\ncommand = [\"sleep\", \"1000\"]\n"
          "[services.api.recovery]\nnotify_url = \"" + webhook.AlertsUrl() + "\"\n"
          "[services.sick]\ncommand = [\"sleep\", \"1000\"]\n"
          "[services.sick.health]\ntype = \"exec\"\ncommand = [\"false\"]\ninterval = \"1s\"\n");
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_GT(h.WaitForPid("sick"), 0) << h.DaemonLog();
  ASSERT_EQ(RunCli(h, "capture -m good").exit_code, 0);
  ASSERT_EQ(RunCli(h, "stop api").exit_code, 0);
  ASSERT_EQ(RunCli(h, "stop sick").exit_code, 0);

  CliResult recovered = RunCli(h, "recover");
  EXPECT_EQ(recovered.exit_code, 1) << recovered.output;
  EXPECT_NE(recovered.output.find("healthy api"), std::string::npos) << recovered.output;
  EXPECT_NE(recovered.output.find("rebound: sick is not healthy"), std::string::npos)
      << recovered.output;
  auto events = h.Get("/v1/events?category=snapshot&kind=recovery_failed");
  ASSERT_TRUE(events.has_value());
  EXPECT_NE(events->dump().find("\"healthy\":false"), std::string::npos) << events->dump();
  ASSERT_TRUE(WaitUntil([&] { return !webhook.alerts().empty(); })) << h.DaemonLog();
  nlohmann::json alert = nlohmann::json::parse(webhook.alerts()[0]);
  EXPECT_EQ(alert["event"], "snapshot.recovery_failed");
  EXPECT_EQ(alert["ok"], false);
}

int CountSnapshots(DaemonHarness& h, const std::string& message) {
  const nlohmann::json list = h.Get("/v1/snapshots").value_or(nlohmann::json::object());
  int count = 0;
  for (const nlohmann::json& snapshot : list.value("snapshots", nlohmann::json::array())) {
    count += snapshot.value("message", "") == message ? 1 : 0;
  }
  return count;
}

TEST(SnapshotEndpointsIntegrationTest, RecoveriesAndListedEventsTriggerThrottledCaptures) {
  DaemonHarness h;
  h.Start("[snapshots]\nbefore_recovery = true\non_events = [\"service.stopped\"]\n"
          "trigger_interval = \"1h\"\n"
          "[services.api]\ncommand = [\"sleep\", \"1000\"]\n");
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_EQ(RunCli(h, "trigger api").exit_code, 0);
  EXPECT_TRUE(WaitUntil([&] { return CountSnapshots(h, "before recovery of api") == 1; }))
      << h.DaemonLog();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(RunCli(h, "stop api").exit_code, 0);
    ASSERT_TRUE(WaitUntil([&] { return h.State("api") == "stopped"; }));
    ASSERT_EQ(RunCli(h, "start api").exit_code, 0);
    ASSERT_GT(h.WaitForPid("api"), 0);
  }
  EXPECT_TRUE(WaitUntil([&] { return CountSnapshots(h, "on service.stopped of api") == 1; }))
      << h.DaemonLog();
  ASSERT_EQ(RunCli(h, "trigger api").exit_code, 0);  // within the hour: throttled
  ASSERT_EQ(RunCli(h, "capture -m marker").exit_code, 0);
  EXPECT_EQ(CountSnapshots(h, "before recovery of api"), 1);
  EXPECT_EQ(CountSnapshots(h, "on service.stopped of api"), 1);
}

TEST(SnapshotEndpointsIntegrationTest, TheRestoreModuleRecoveryActionPushesTheSnapshotState) {
  DaemonHarness h;
  CreateDataDir(h);
  {
    auto store = store::Store::Open(h.dir().Path("data"));
    ASSERT_TRUE((*store)->states().Put("llm", {{"model", "gpt-4"}}, std::nullopt).get().ok());
  }
  h.Start("[snapshots.modules.llm]\nrestore = { file = \"" + h.dir().Path("llm.json") + "\" }\n"
          "[services.api]\ncommand = [\"sleep\", \"1000\"]\n"
          "[services.api.recovery]\nactions = [\"restore_module\", \"restart\"]\n"
          "restore_modules = [\"llm\"]\n");
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_EQ(RunCli(h, "capture -m good").exit_code, 0);
  ASSERT_EQ(RunCli(h, "trigger api").exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return !ReadText(h.dir().Path("llm.json")).empty(); }))
      << h.DaemonLog();
  EXPECT_EQ(nlohmann::json::parse(ReadText(h.dir().Path("llm.json")))["model"], "gpt-4");
  ASSERT_TRUE(WaitUntil([&] {
    auto events = h.Get("/v1/events?category=snapshot&kind=module_restored");
    return events && events->dump().find("\"llm\"") != std::string::npos;
  })) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] {
    return h.DaemonLog().find("recovery_succeeded") != std::string::npos;
  })) << h.DaemonLog();
}

}  // namespace
}  // namespace rebound::testing
