// What the daemon's startup defers or moves (docs/benchmarks.md, "start 100 services"): the
// snapshot repository opens after the first launches and a broken one is reported, not fatal;
// [daemon] run_dir keeps the services' records where it says, and cannot move under live shims.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "daemon_harness.h"

namespace rebound::testing {
namespace {

std::string StartupSleeper(const std::string& name) {
  return "[services." + name + "]\ncommand = [\"sleep\", \"1000\"]\n\n";
}

// `rebound serve` on the harness's config, to its end: exit status and log.
std::pair<int, std::string> ServeUntilExit(DaemonHarness& h, const std::string& log_name) {
  const pid_t pid = SpawnProcess(
      {REBOUND_BINARY, "serve", "--config", h.dir().Path("rebound.toml")}, h.dir().Path(log_name));
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return {-1, ""};
  }
  std::ifstream log(h.dir().Path(log_name));
  return {WEXITSTATUS(status), std::string(std::istreambuf_iterator<char>(log), {})};
}

TEST(DaemonStartupTest, SnapshotsBecomeAvailableAfterTheServicesStart) {
  DaemonHarness h;
  h.Start(StartupSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  ASSERT_TRUE(WaitUntil([&] {
    auto health = h.Get("/health");
    return health && (*health)["components"]["snapshots"]["status"] == "available";
  }));
  auto [status, body] = h.PostJson("/v1/snapshots", R"({"message": "after start"})");
  EXPECT_EQ(status, 201) << body.dump();
  httplib::Client client("127.0.0.1", h.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nrebound_snapshots_available 1\n"), std::string::npos);
}

// A capture triggered by an event of the startup itself is queued on the snapshot worker before
// the daemon's deferred open of the repository: it must open the repository, not wait for it.
TEST(DaemonStartupTest, ACaptureOnTheStartupsOwnEventsNeitherHangsNorBlocksTheShutdown) {
  DaemonHarness h;
  h.Start("[snapshots]\non_events = [\"daemon.started\", \"service.started\"]\n\n" +
          StartupSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  ASSERT_TRUE(WaitUntil([&] {
    auto listed = h.Get("/v1/snapshots");
    return listed && !(*listed)["snapshots"].empty();
  })) << "no capture on the startup's events";
  auto health = h.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ((*health)["components"]["snapshots"]["status"], "available");
  const int status = h.Terminate();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(DaemonStartupTest, ABrokenSnapshotRepositoryIsReportedWhileServicesRun) {
  DaemonHarness h;
  std::filesystem::create_directories(h.dir().Path("data"));
  std::ofstream(h.dir().Path("data/snapshots")) << "not a repository";  // libgit2 cannot open it
  h.Start(StartupSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);  // the services start anyway
  nlohmann::json component;
  ASSERT_TRUE(WaitUntil([&] {
    auto health = h.Get("/health");
    component = health ? (*health)["components"]["snapshots"] : nlohmann::json();
    return component.is_object() && component["status"] != "opening";
  }));
  EXPECT_EQ(component["status"], "unavailable");
  EXPECT_EQ(component["required"], false);
  const std::string message = component["message"];
  EXPECT_NE(message.find(h.dir().Path("data/snapshots")), std::string::npos) << message;
  auto [status, body] = h.GetJson("/v1/snapshots");
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["error"]["code"], "resource");  // the category: retry later
  EXPECT_EQ(body["error"]["message"], message);
  EXPECT_NE(h.DaemonLog().find("snapshots are unavailable"), std::string::npos) << h.DaemonLog();
  httplib::Client client("127.0.0.1", h.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nrebound_snapshots_available 0\n"), std::string::npos)
      << metrics->body;
}

TEST(DaemonStartupTest, AWorkTreeWhereTheRepositoryGoesStillStopsTheDaemonFirst) {
  DaemonHarness h;
  std::filesystem::create_directories(h.dir().Path("data/snapshots/.git"));
  h.WriteConfig(StartupSleeper("api"));
  auto [code, log] = ServeUntilExit(h, "refused.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("is a git work tree"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(h.dir().Path("data/run/api.child")));  // nothing started
}

TEST(DaemonStartupTest, RunDirHoldsTheServicesRecordsOwnerOnly) {
  DaemonHarness h;
  h.SetRunDir(h.dir().Path("tmpfs/run"));
  h.Start(StartupSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  EXPECT_TRUE(std::filesystem::exists(h.dir().Path("tmpfs/run/api.child")));
  EXPECT_FALSE(std::filesystem::exists(h.dir().Path("data/run/api.child")));
  struct stat st {};
  ASSERT_EQ(::stat(h.dir().Path("tmpfs/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(DaemonStartupTest, RunDirCannotMoveWhileShimsRecordedInTheOldOneRun) {
  DaemonHarness h;
  h.Start(StartupSleeper("api"));  // records in DATA_DIR/run
  const int pid = h.WaitForPid("api");
  ASSERT_GT(pid, 0);
  h.Kill();  // kill -9: the shim and its service run on
  h.SetRunDir(h.dir().Path("elsewhere"));
  h.WriteConfig(StartupSleeper("api"));
  auto [code, log] = ServeUntilExit(h, "moved.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("keep their records in " + h.dir().Path("data/run")), std::string::npos)
      << log;
  EXPECT_TRUE(ProcessAlive(pid));
  h.SetRunDir("");  // put back: the same process is adopted, not started twice
  h.Start(StartupSleeper("api"));
  EXPECT_EQ(h.WaitForPid("api"), pid);
}

}  // namespace
}  // namespace rebound::testing
