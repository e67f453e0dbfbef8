// Snapshots and a remote, with the real binary: the session wipe of seed 000 (`serve
// --recover-from`), push and status on demand, retention through the daemon, and repair.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "cli_runner.h"
#include "daemon_harness.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command, bounded by `timeout 30`, collecting its output.
CommandResult Run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(("timeout 30 " + command + " 2>&1").c_str(), "r");
  char buffer[4096];
  for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0;) {
    result.output.append(buffer, n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult Cli(const DaemonHarness& h, const std::string& args) {
  return Run(std::string(REBOUND_BINARY) + " --config '" + h.dir().Path("rebound.toml") + "' " +
             args);
}

CommandResult Git(const std::string& repo, const std::string& args) {
  return Run("git -C '" + repo + "' " + args);
}

const std::string kTwoServices =
    "[services.api]\ncommand = [\"sleep\", \"1000\"]\n"
    "[services.worker]\ncommand = [\"sleep\", \"1000\"]\n";

std::string WithRemote(const std::string& remote, const std::string& more = "") {
  return kTwoServices + "\n[snapshots]\nremote = \"file://" + remote + "\"\n" + more;
}

nlohmann::json ModuleDocument(DaemonHarness& h, const std::string& module) {
  auto state = h.Get("/v1/state/" + module);
  return state ? state->value("document", nlohmann::json()) : nlohmann::json();
}

TEST(SnapshotRemoteIntegrationTest, ServeRecoverFromBringsAWipedDataDirBack) {
  DaemonHarness h;
  const std::string remote = h.dir().Path("remote.git");
  ASSERT_EQ(Git(h.dir().path(), "init -q --bare '" + remote + "'").exit_code, 0);
  h.Start(WithRemote(remote));
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_GT(h.WaitForPid("worker"), 0) << h.DaemonLog();
  std::ofstream(h.dir().Path("llm.json")) << R"({"current_model": "gpt-4", "queue": 5})";
  ASSERT_EQ(Cli(h, "state put llm_orchestrator '" + h.dir().Path("llm.json") + "'").exit_code, 0);
  ASSERT_EQ(h.Post("/v1/services/worker/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("worker") == "stopped"; })) << h.DaemonLog();
  auto [status, taken] = h.PostJson("/v1/snapshots", R"({"message": "before the wipe"})");
  ASSERT_EQ(status, 201) << taken.dump();
  ASSERT_EQ(taken["pushed"], true) << taken.dump();
  const std::string tag_path = "/v1/snapshots/" + taken["commit"].get<std::string>() + "/tags";
  ASSERT_EQ(h.PostJson(tag_path, R"({"name": "known-good"})").first, 201);  // pushed at once

  h.Kill();  // the session is wiped: daemon, services and the whole data directory gone
  h.KillServices();
  std::filesystem::remove_all(h.dir().Path("data"));

  h.Start("", {"--recover-from", "file://" + remote});
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  EXPECT_NE(h.DaemonLog().find("recovered from file://" + remote), std::string::npos)
      << h.DaemonLog();
  EXPECT_EQ(ModuleDocument(h, "llm_orchestrator")["current_model"], "gpt-4") << h.DaemonLog();
  EXPECT_EQ(ModuleDocument(h, "llm_orchestrator")["queue"], 5);
  std::this_thread::sleep_for(300ms);  // the worker, stopped by hand before, must stay stopped
  EXPECT_EQ(h.State("worker"), "stopped") << h.DaemonLog();
  // The history came back with the same ids, and the restored state is its newest snapshot.
  auto list = h.Get("/v1/snapshots");
  ASSERT_TRUE(list.has_value());
  bool found = false;
  for (const auto& snapshot : (*list)["snapshots"]) {
    found |= snapshot["commit"] == taken["commit"] &&
             snapshot["tags"] == nlohmann::json::array({"known-good"});
  }
  EXPECT_TRUE(found) << list->dump();
  EXPECT_NE((*list)["snapshots"][0]["message"].get<std::string>().find("restored from"),
            std::string::npos);
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "fsck --strict").exit_code, 0);

  // Started again with the history present: said so, nothing clobbered.
  h.Kill();
  const size_t before = (*list)["snapshots"].size();
  h.Start("", {"--recover-from", "file://" + remote});
  EXPECT_NE(h.DaemonLog().find("already holds a snapshot history"), std::string::npos)
      << h.DaemonLog();
  EXPECT_EQ((*h.Get("/v1/snapshots"))["snapshots"].size(), before);
}

TEST(SnapshotRemoteIntegrationTest, AnUnreachableRecoverFromRemoteStopsTheStartWithAClearError) {
  DaemonHarness h;
  h.WriteConfig(kTwoServices);
  CommandResult served = Cli(h, "serve --recover-from file://" + h.dir().Path("nowhere.git"));
  EXPECT_EQ(served.exit_code, 1) << served.output;
  EXPECT_NE(served.output.find("nowhere.git"), std::string::npos) << served.output;
  EXPECT_FALSE(std::filesystem::exists(h.dir().Path("data/snapshots/HEAD")));
}

TEST(SnapshotRemoteIntegrationTest, PushAndStatusOnDemandThroughTheDaemonAndOffline) {
  DaemonHarness h;
  const std::string remote = h.dir().Path("remote.git");
  h.WriteConfig(WithRemote(remote));
  std::filesystem::create_directories(h.dir().Path("data"));
  ASSERT_EQ(Cli(h, "capture -m offline").exit_code, 0);  // the remote does not exist yet
  CommandResult behind = Cli(h, "snapshots status");
  EXPECT_NE(behind.exit_code, 0) << behind.output;  // unreachable remote
  ASSERT_EQ(Git(h.dir().path(), "init -q --bare '" + remote + "'").exit_code, 0);
  behind = Cli(h, "snapshots status");
  EXPECT_EQ(behind.exit_code, 0) << behind.output;
  EXPECT_NE(behind.output.find("behind by 1 snapshot"), std::string::npos) << behind.output;
  h.Start();
  CommandResult pushed = Cli(h, "snapshots push");  // through the daemon
  EXPECT_EQ(pushed.exit_code, 0) << pushed.output;
  EXPECT_NE(pushed.output.find("pushed "), std::string::npos) << pushed.output;
  auto status = h.Get("/v1/snapshots/remote");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ((*status)["remote_behind_by"], 0) << status->dump();
  EXPECT_EQ(Git(remote, "rev-list --count HEAD").output, "1\n");
}

TEST(SnapshotRemoteIntegrationTest, PushWithoutARemoteIsAUsageError) {
  DaemonHarness h;
  h.Start(kTwoServices);
  auto [status, body] = h.PostJson("/v1/snapshots/push", "");
  EXPECT_EQ(status, 422) << body.dump();
  EXPECT_NE(body["error"]["message"].get<std::string>().find("[snapshots] remote"),
            std::string::npos);
  CommandResult cli = Cli(h, "snapshots push");
  EXPECT_EQ(cli.exit_code, 2) << cli.output;
}

TEST(SnapshotRemoteIntegrationTest, TheDaemonKeepsTheNewestNAndTaggedSnapshots) {
  DaemonHarness h;
  h.Start(kTwoServices + "\n[snapshots]\nkeep = 2\n");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto [status, taken] =
        h.PostJson("/v1/snapshots", R"({"message": "n)" + std::to_string(i) + "\"}");
    ASSERT_EQ(status, 201) << taken.dump();
    ids.push_back(taken["commit"]);
    if (i == 0) {
      ASSERT_EQ(h.PostJson("/v1/snapshots/" + ids[0] + "/tags", R"({"name": "first"})").first, 201);
    }
  }
  auto list = h.Get("/v1/snapshots");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ((*list)["snapshots"].size(), 3u) << list->dump();
  EXPECT_EQ((*list)["snapshots"][0]["commit"], ids[4]);
  EXPECT_EQ((*list)["snapshots"][2]["commit"], ids[0]);
  auto [status, recovered] =
      h.PostJson("/v1/snapshots/recover", R"({"commit": ")" + ids[1] + R"(", "dry_run": true})");
  EXPECT_EQ(status, 404) << recovered.dump();
  h.Terminate();
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "fsck --strict").exit_code, 0);
  CommandResult pruned = Cli(h, "snapshots prune --keep 1");  // offline
  EXPECT_EQ(pruned.exit_code, 0) << pruned.output;
  EXPECT_NE(pruned.output.find("kept 2 snapshots"), std::string::npos) << pruned.output;
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "fsck --strict").exit_code, 0);
}

TEST(SnapshotRemoteIntegrationTest, RepairFetchesBackWhatWasDeletedAndVerifyThenPasses) {
  DaemonHarness h;
  const std::string remote = h.dir().Path("remote.git");
  ASSERT_EQ(Git(h.dir().path(), "init -q --bare '" + remote + "'").exit_code, 0);
  h.WriteConfig(WithRemote(remote));
  std::filesystem::create_directories(h.dir().Path("data"));
  ASSERT_EQ(Cli(h, "capture -m one").exit_code, 0);
  ASSERT_EQ(Cli(h, "capture -m two").exit_code, 0);
  const std::string repo = h.dir().Path("data/snapshots");
  const std::string blob = Git(repo, "rev-parse HEAD~1:recovery.json").output.substr(0, 40);
  ASSERT_TRUE(
      std::filesystem::remove(repo + "/objects/" + blob.substr(0, 2) + "/" + blob.substr(2)));
  CommandResult damaged = Cli(h, "verify");
  EXPECT_EQ(damaged.exit_code, 1) << damaged.output;

  CommandResult repaired = Cli(h, "repair");
  EXPECT_EQ(repaired.exit_code, 0) << repaired.output;
  EXPECT_NE(repaired.output.find("1 object fetched back"), std::string::npos) << repaired.output;
  EXPECT_NE(repaired.output.find("all checks passed"), std::string::npos) << repaired.output;
  EXPECT_EQ(Git(repo, "fsck --strict").exit_code, 0);

  h.Start();  // a running daemon holds the data directory: repair refuses
  CommandResult refused = Cli(h, "repair");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("stop the daemon first"), std::string::npos) << refused.output;
}

TEST(SnapshotRemoteIntegrationTest, KillNineDuringCapturesWithRetentionLeavesAWholeRepository) {
  DaemonHarness h;
  h.WriteConfig(kTwoServices + "\n[snapshots]\nkeep = 2\n");
  std::filesystem::create_directories(h.dir().Path("data"));
  ASSERT_EQ(Cli(h, "capture -m seed").exit_code, 0);
  KillCapturesMidway(h, 25, 11);  // each capture also prunes: the kill hits either
  CommandResult verified = Cli(h, "verify");
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "fsck --strict").exit_code, 0);
  ASSERT_EQ(Cli(h, "capture -m after").exit_code, 0);  // and it still captures and prunes
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "rev-list --count HEAD").output, "2\n");
  EXPECT_EQ(Git(h.dir().Path("data/snapshots"), "fsck --strict").exit_code, 0);
}

}  // namespace
}  // namespace rebound::testing
