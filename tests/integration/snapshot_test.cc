// Snapshots with a real daemon and the real CLI: capture and recover through the API,
// offline capture and recover on the data directory, verify finding damage.

#include <gtest/gtest.h>

#include <cstdio>

#include "cli_runner.h"
#include "daemon_harness.h"
#include "store/store.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

const std::string kSleeper = "[services.api]\ncommand = [\"sleep\", \"1000\"]\n";

// Writes a module state while no daemon holds the data directory.
void PutModuleState(const DaemonHarness& h, const std::string& module, nlohmann::json document) {
  auto store = store::Store::Open(h.dir().Path("data"));
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto put = (*store)->states().Put(module, std::move(document), std::nullopt).get();
  ASSERT_TRUE(put.ok()) << put.error().message();
}

nlohmann::json GetModuleState(const DaemonHarness& h, const std::string& module) {
  auto store = store::Store::Open(h.dir().Path("data"));
  auto state = (*store)->states().Get(module);
  return state.ok() ? state->document : nlohmann::json();
}

bool GitFsckPasses(const std::string& repo) {
  return std::system(("git -C '" + repo + "' fsck --strict >/dev/null 2>&1").c_str()) == 0;
}

TEST(SnapshotIntegrationTest, CaptureThroughTheDaemonThenRecoverRestartsAStoppedService) {
  DaemonHarness h;
  h.WriteConfig(kSleeper);
  PutModuleState(h, "llm", {{"model", "gpt-4"}, {"api_key", "sk-live"}});
  h.Start();
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();

  auto [status, taken] = h.PostJson("/v1/snapshots", R"({"message": "known good"})");
  ASSERT_EQ(status, 201) << taken.dump();
  const std::string commit = taken["commit"];
  EXPECT_EQ(commit.size(), 40u);
  auto text = DefaultFileSystem().ReadFile(h.dir().Path("data/recovery.json"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("sk-live"), std::string::npos);  // redacted
  EXPECT_NE(text->find("\"captured_by\": \"daemon\""), std::string::npos);

  ASSERT_EQ(h.Post("/v1/services/api/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("api") == "stopped"; })) << h.DaemonLog();

  auto [dry_status, plan] =
      h.PostJson("/v1/snapshots/recover", R"({"commit": ")" + commit + R"(", "dry_run": true})");
  ASSERT_EQ(dry_status, 200) << plan.dump();
  EXPECT_EQ(plan["plan"]["services"][0]["action"], "start");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(h.State("api"), "stopped");  // a dry run changes nothing

  auto [recover_status, recovered] =
      h.PostJson("/v1/snapshots/recover", R"({"commit": ")" + commit.substr(0, 10) + R"("})");
  ASSERT_EQ(recover_status, 200) << recovered.dump();
  EXPECT_EQ(recovered["started"][0]["name"], "api");
  EXPECT_GT(h.WaitForPid("api"), 0);
  auto list = h.Get("/v1/snapshots");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ((*list)["snapshots"].size(), 2u);  // the state before recovering was captured
  EXPECT_EQ((*list)["snapshots"][0]["commit"], recovered["pre_recovery_commit"]);
  EXPECT_TRUE(GitFsckPasses(h.dir().Path("data/snapshots")));
}

TEST(SnapshotIntegrationTest, TheApiAnswersBadRequestsWithJsonErrors) {
  DaemonHarness h;
  h.Start(kSleeper);
  EXPECT_EQ(h.PostJson("/v1/snapshots/recover", "{}").first, 404);  // nothing captured yet
  ASSERT_EQ(h.PostJson("/v1/snapshots", "{}").first, 201);
  auto [both, error] = h.PostJson("/v1/snapshots/recover", R"({"tag": "a", "commit": "b"})");
  EXPECT_EQ(both, 422);
  EXPECT_EQ(error["error"]["code"], "validation");
  EXPECT_EQ(h.PostJson("/v1/snapshots/recover", R"({"at": "yesterday"})").first, 422);
  EXPECT_EQ(h.PostJson("/v1/snapshots/recover", R"({"dry_run": "yes"})").first, 422);
  EXPECT_EQ(h.PostJson("/v1/snapshots/recover", R"({"tag": "missing"})").first, 404);
  const std::string head = (*h.Get("/v1/snapshots"))["snapshots"][0]["commit"];
  EXPECT_EQ(h.PostJson("/v1/snapshots/" + head + "/tags", R"({"name": "good"})").first, 201);
  EXPECT_EQ(h.PostJson("/v1/snapshots/" + head + "/tags", R"({"name": "good"})").first, 409);
  EXPECT_EQ(h.PostJson("/v1/snapshots/" + head + "/tags", "{}").first, 422);
  EXPECT_EQ(h.PostJson("/v1/snapshots/recover", R"({"at": "2000-01-01T00:00:00Z"})").first, 404);
}

TEST(SnapshotIntegrationTest, TheCliGoesThroughARunningDaemon) {
  DaemonHarness h;
  h.Start(kSleeper);
  ASSERT_GT(h.WaitForPid("api"), 0);
  CliResult captured = RunCli(h, "capture -m 'from the cli'");
  ASSERT_EQ(captured.exit_code, 0) << captured.output;
  EXPECT_NE(captured.output.find("captured "), std::string::npos);
  CliResult listed = RunCli(h, "snapshots");
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_NE(listed.output.find("from the cli"), std::string::npos) << listed.output;
  const std::string head = (*h.Get("/v1/snapshots"))["snapshots"][0]["commit"];
  EXPECT_EQ(RunCli(h, "snapshots tag " + head.substr(0, 8) + " v1").exit_code, 0);
  CliResult plan = RunCli(h, "recover-state --tag v1 --dry-run");
  EXPECT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("dry run: nothing was changed"), std::string::npos);
  EXPECT_EQ(RunCli(h, "recover --tag nope").exit_code, 1);
  CliResult both = RunCli(h, "recover --tag a --commit b");
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.output.find("excludes"), std::string::npos) << both.output;
}

TEST(SnapshotIntegrationTest, OfflineCaptureAndRecoverRestoreModuleStateKeepingSecrets) {
  DaemonHarness h;
  h.WriteConfig(kSleeper);
  PutModuleState(h, "llm", {{"model", "gpt-3"}, {"password", "p1"}});
  CliResult captured = RunCli(h, "capture-state --message before");
  ASSERT_EQ(captured.exit_code, 0) << captured.output;
  PutModuleState(h, "llm", {{"model", "gpt-4"}, {"password", "p2"}});

  CliResult recovered = RunCli(h, "recover");
  ASSERT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_NE(recovered.output.find("module llm: restore"), std::string::npos) << recovered.output;
  const nlohmann::json state = GetModuleState(h, "llm");
  EXPECT_EQ(state["model"], "gpt-3");
  EXPECT_EQ(state["password"], "p2");  // the live secret, not "[REDACTED]"
  CliResult listed = RunCli(h, "--json snapshots");
  EXPECT_EQ(nlohmann::json::parse(listed.output)["snapshots"].size(), 2u);
  EXPECT_TRUE(GitFsckPasses(h.dir().Path("data/snapshots")));
}

TEST(SnapshotIntegrationTest, ASessionWipeIsRecoveredFromTheRepository) {
  DaemonHarness h;
  h.WriteConfig(kSleeper);
  PutModuleState(h, "llm_orchestrator", {{"current_model", "gpt-4"}, {"fallback_active", false}});
  PutModuleState(h, "suno_service", {{"queue", 5}});
  ASSERT_EQ(RunCli(h, "capture -m 'before the wipe'").exit_code, 0);
  for (const char* file : {"rebound.db", "rebound.db-wal", "rebound.db-shm", "recovery.json"}) {
    std::filesystem::remove(h.dir().Path(std::string("data/") + file));
  }
  CliResult recovered = RunCli(h, "recover");
  ASSERT_EQ(recovered.exit_code, 0) << recovered.output;
  EXPECT_NE(recovered.output.find("module llm_orchestrator: create"), std::string::npos)
      << recovered.output;
  EXPECT_EQ(GetModuleState(h, "llm_orchestrator")["current_model"], "gpt-4");
  EXPECT_EQ(GetModuleState(h, "suno_service")["queue"], 5);
  h.Start();  // the daemon comes up on the recovered store and starts its services
  EXPECT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
}

TEST(SnapshotIntegrationTest, VerifyPassesOnAnIntactDataDirAndFailsOnAFlippedByte) {
  DaemonHarness h;
  h.WriteConfig(kSleeper);
  PutModuleState(h, "llm", {{"model", "gpt-3"}});
  ASSERT_EQ(RunCli(h, "capture -m one").exit_code, 0);
  CliResult intact = RunCli(h, "verify");
  EXPECT_EQ(intact.exit_code, 0) << intact.output;
  EXPECT_NE(intact.output.find("all checks passed"), std::string::npos);
  {
    std::fstream file(h.dir().Path("data/recovery.json"), std::ios::in | std::ios::out);
    file.seekp(80);
    file.put('#');
  }
  CliResult damaged = RunCli(h, "verify");
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;
  EXPECT_NE(damaged.output.find("DAMAGED  recovery_document"), std::string::npos) << damaged.output;
}

TEST(SnapshotIntegrationTest, TheDaemonCapturesOnScheduleAndOnGracefulShutdown) {
  DaemonHarness h;
  h.Start(kSleeper + "\n[snapshots]\ninterval = \"1s\"\non_shutdown = true\n");
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  auto count = [&](const std::string& message) {
    auto list = h.Get("/v1/snapshots");
    int n = 0;
    for (const auto& snapshot : list ? (*list)["snapshots"] : nlohmann::json::array()) {
      n += snapshot["message"] == message;
    }
    return n;
  };
  EXPECT_TRUE(WaitUntil([&] { return count("scheduled") >= 2; }, 5s)) << h.DaemonLog();
  const int status = h.Terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << h.DaemonLog();
  CliResult listed = RunCli(h, "--json snapshots");  // offline now
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  const nlohmann::json newest = nlohmann::json::parse(listed.output)["snapshots"][0];
  EXPECT_EQ(newest["message"], "shutdown");
  auto text = DefaultFileSystem().ReadFile(h.dir().Path("data/recovery.json"));
  // Captured before the services were stopped: it records them running.
  EXPECT_NE(text.value_or("").find("\"state\": \"running\""), std::string::npos);
}

TEST(SnapshotIntegrationTest, EachCaptureIsPushedToTheConfiguredRemote) {
  DaemonHarness h;
  const std::string remote = h.dir().Path("remote.git");
  ASSERT_EQ(std::system(("git init -q --bare '" + remote + "'").c_str()), 0);
  h.Start(kSleeper + "\n[snapshots]\nremote = \"file://" + remote + "\"\n");
  auto [status, taken] = h.PostJson("/v1/snapshots", R"({"message": "offsite"})");
  ASSERT_EQ(status, 201) << taken.dump();
  EXPECT_EQ(taken["pushed"], true) << taken.dump();
  CliResult head = {};
  FILE* pipe = ::popen(("git -C '" + remote + "' log -1 --format=%H%n%s 2>&1").c_str(), "r");
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    head.output += buffer;
  }
  ::pclose(pipe);
  EXPECT_EQ(head.output, taken["commit"].get<std::string>() + "\noffsite\n");
  EXPECT_TRUE(GitFsckPasses(remote));
}

TEST(SnapshotIntegrationTest, AnUnreachableRemoteIsReportedAndTheSnapshotKept) {
  DaemonHarness h;
  h.Start(kSleeper + "\n[snapshots]\nremote = \"file://" + h.dir().Path("missing.git") + "\"\n");
  auto [status, taken] = h.PostJson("/v1/snapshots", R"({"message": "local only"})");
  ASSERT_EQ(status, 201) << taken.dump();
  EXPECT_EQ(taken["pushed"], false);
  EXPECT_NE(taken["push_error"].get<std::string>().find("missing.git"), std::string::npos)
      << taken.dump();
  EXPECT_EQ((*h.Get("/v1/snapshots"))["snapshots"].size(), 1u);
}

TEST(SnapshotIntegrationTest, KillNineDuringOfflineCapturesLeavesAConsistentHistory) {
  DaemonHarness h;
  h.WriteConfig(kSleeper);
  PutModuleState(h, "llm", {{"blob", std::string(200000, 'x')}});
  ASSERT_EQ(RunCli(h, "capture -m seed").exit_code, 0);
  KillCapturesMidway(h, 25, 7);
  CliResult verified = RunCli(h, "verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_TRUE(GitFsckPasses(h.dir().Path("data/snapshots")));
  CliResult after = RunCli(h, "capture -m after");
  EXPECT_EQ(after.exit_code, 0) << after.output;
  CliResult recovered = RunCli(h, "recover --dry-run");
  EXPECT_EQ(recovered.exit_code, 0) << recovered.output;
}

}  // namespace
}  // namespace rebound::testing
