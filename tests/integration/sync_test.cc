// The sync service for real: a running daemon keeps an application's state (a cpp-httplib
// server on 127.0.0.1) and the stored module state in step, forced through the API and the
// CLI: both directions and a compare-and-set conflict.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "base/file_system.h"
#include "cli_runner.h"
#include "daemon_harness.h"

namespace rebound::testing {
namespace {

// The application: GET /state answers its state, PUT /state replaces it. With a racer set,
// the next GET first writes to the daemon's store itself (another writer winning the race).
class SyncAppServer {
 public:
  explicit SyncAppServer(std::string state) : state_(std::move(state)) {
    server_.Get("/state", [this](const httplib::Request&, httplib::Response& response) {
      std::function<void()> racer;
      {
        std::lock_guard lock(mutex_);
        racer.swap(racer_);
      }
      if (racer) {
        racer();
      }
      std::lock_guard lock(mutex_);
      response.set_content(state_, "application/json");
    });
    server_.Put("/state", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      state_ = request.body;
      response.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitUntil([this] { return server_.is_running(); });
  }
  ~SyncAppServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/state"; }
  nlohmann::json state() {
    std::lock_guard lock(mutex_);
    return nlohmann::json::parse(state_);
  }
  void set_state(const nlohmann::json& state) {
    std::lock_guard lock(mutex_);
    state_ = state.dump();
  }
  void RaceOnNextRead(std::function<void()> racer) {
    std::lock_guard lock(mutex_);
    racer_ = std::move(racer);
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::string state_;
  std::function<void()> racer_;
};

// PUT /v1/state/MODULE on the harness's daemon, unconditionally; the HTTP status.
int PutSyncedModuleState(const DaemonHarness& h, const std::string& module,
                         const nlohmann::json& document) {
  httplib::Client client("127.0.0.1", h.port());
  auto token = DefaultFileSystem().ReadFile(h.dir().Path("data/token"));
  auto response =
      client.Put("/v1/state/" + module, {{"Authorization", "Bearer " + token.value_or("")}},
                 document.dump(), "application/json");
  return response ? response->status : -1;
}

std::string SyncIntegrationConfig(const SyncAppServer& app) {
  return "[services.api]\ncommand = [\"sleep\", \"1000\"]\n\n"
         "[snapshots.modules.llm]\n"
         "source = { url = \"" +
         app.Url() +
         "\" }\n"
         "restore = { url = \"" +
         app.Url() +
         "\" }\n"
         "[sync]\ninterval = \"0\"\nstrategy = \"newest-wins\"\n";
}

TEST(SyncIntegrationTest, ForcedRoundsMoveStateBothWaysAndReportAConflict) {
  DaemonHarness h;
  SyncAppServer app(R"({"model": "gpt-4"})");
  h.Start(SyncIntegrationConfig(app));
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();

  // The store has never seen llm: the application's copy is stored.
  auto [status, report] = h.PostJson("/api/sync/force", "");
  ASSERT_EQ(status, 200) << report.dump() << h.DaemonLog();
  EXPECT_EQ(report["to_store"], 1) << report.dump();
  EXPECT_EQ(report["modules"][0]["direction"], "to_store");
  EXPECT_EQ(h.Get("/v1/state/llm").value_or(nullptr)["document"]["model"], "gpt-4");

  // The store's copy is newer than the application's updated_at: it goes to the application.
  app.set_state({{"model", "gpt-4"}, {"updated_at", "2020-01-01T00:00:00Z"}});
  ASSERT_EQ(PutSyncedModuleState(h, "llm", {{"model", "llama"}, {"updated_at", 1}}), 200);
  CliResult pushed = RunCli(h, "sync");
  EXPECT_EQ(pushed.exit_code, 0) << pushed.output;
  EXPECT_NE(pushed.output.find("0 to store, 1 to memory"), std::string::npos) << pushed.output;
  EXPECT_NE(pushed.output.find("llm  to_memory"), std::string::npos) << pushed.output;
  EXPECT_EQ(app.state()["model"], "llama");

  // Another writer stores a version while the round reads the application (which has no
  // updated_at, so it counts as newest): the round's compare-and-set loses, nothing is
  // overwritten, and the next round stores the application's copy.
  app.set_state({{"model", "mistral"}});
  app.RaceOnNextRead([&h] { PutSyncedModuleState(h, "llm", {{"model", "racer"}}); });
  CliResult raced = RunCli(h, "sync");
  EXPECT_EQ(raced.exit_code, 1) << raced.output;
  EXPECT_NE(raced.output.find("1 conflict"), std::string::npos) << raced.output;
  EXPECT_NE(raced.output.find("llm  conflict: store: module state 'llm' is at version"),
            std::string::npos)
      << raced.output;
  EXPECT_EQ(h.Get("/v1/state/llm").value_or(nullptr)["document"]["model"], "racer");

  CliResult retried = RunCli(h, "--json sync");
  EXPECT_EQ(retried.exit_code, 0) << retried.output;
  EXPECT_EQ(nlohmann::json::parse(retried.output)["to_store"], 1) << retried.output;
  EXPECT_EQ(h.Get("/v1/state/llm").value_or(nullptr)["document"]["model"], "mistral");

  const nlohmann::json sync = h.Get("/v1/sync").value_or(nullptr);
  EXPECT_EQ(sync["enabled"], true) << sync.dump();
  EXPECT_EQ(sync["strategy"], "newest-wins");
  EXPECT_EQ(sync["modules"], nlohmann::json::array({"llm"}));
  EXPECT_EQ(sync["rounds_total"], 4);
  EXPECT_EQ(sync["conflicts_total"], 1);
  EXPECT_EQ(sync["last_round"]["to_store"], 1);
  CliResult shown = RunCli(h, "sync --status");
  EXPECT_NE(shown.output.find("rounds     4 (1 conflicts)"), std::string::npos) << shown.output;

  httplib::Client client("127.0.0.1", h.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("rebound_sync_rounds_total 4"), std::string::npos);
  EXPECT_NE(metrics->body.find("rebound_sync_conflicts_total 1"), std::string::npos);
  ASSERT_TRUE(WaitUntil([&] {
    auto events = h.Get("/v1/events?category=sync&kind=round");
    return events && events->dump().find("\"conflicts\":1") != std::string::npos;
  })) << h.Get("/v1/events?category=sync").value_or(nullptr).dump();
}

TEST(SyncIntegrationTest, ScheduledRoundsRunEveryInterval) {
  DaemonHarness h;
  SyncAppServer app(R"({"model": "gpt-4"})");
  std::string config = SyncIntegrationConfig(app);
  config.replace(config.find("interval = \"0\""), 14, "interval = \"1s\"");
  h.Start(config);
  ASSERT_TRUE(WaitUntil([&] {
    auto state = h.Get("/v1/state/llm");
    return state && state->value("document", nlohmann::json())["model"] == "gpt-4";
  })) << h.DaemonLog();
  app.set_state({{"model", "llama"}});
  ASSERT_TRUE(WaitUntil([&] {
    auto state = h.Get("/v1/state/llm");
    return state && state->value("document", nlohmann::json())["model"] == "llama";
  })) << h.DaemonLog();
  EXPECT_EQ(h.Get("/v1/sync").value_or(nullptr)["interval"], "1s");
}

TEST(SyncIntegrationTest, WithoutASyncTableForcingIsRefused) {
  DaemonHarness h;
  h.Start("[services.api]\ncommand = [\"sleep\", \"1000\"]\n");
  auto [status, answer] = h.PostJson("/v1/sync/force", "");
  EXPECT_EQ(status, 422) << answer.dump();
  EXPECT_EQ(answer["error"]["code"], "validation");
  EXPECT_NE(answer["error"]["message"].get<std::string>().find("add a [sync] table"),
            std::string::npos);
  EXPECT_EQ(h.Get("/v1/sync").value_or(nullptr)["enabled"], false);
  CliResult refused = RunCli(h, "sync");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  CliResult status_line = RunCli(h, "sync --status");
  EXPECT_EQ(status_line.exit_code, 0);
  EXPECT_NE(status_line.output.find("sync is off"), std::string::npos) << status_line.output;
}

}  // namespace
}  // namespace rebound::testing
