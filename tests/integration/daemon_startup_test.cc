// What the daemon's startup defers or moves (docs/benchmarks.md, "start 100 services"): the
// snapshot repository opens after the first launches and a broken one is reported, not fatal;
// [daemon] run_dir keeps the services' records where it says, and cannot move under live shims.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "daemon_harness.h"

namespace rebound::testing {
namespace {

std::string StartupSleeper(const std::string& name) {
  return "[services." + name + "]\ncommand = [\"sleep\", \"1000\"]\n\n";
}

// `rebound serve` on the harness's config, to its end: exit status and log. A daemon that has
// not exited within 20 s (one that should have refused to start) is killed: -1.
std::pair<int, std::string> ServeUntilExit(DaemonHarness& h, const std::string& log_name) {
  const pid_t pid = SpawnProcess(
      {REBOUND_BINARY, "serve", "--config", h.dir().Path("rebound.toml")}, h.dir().Path(log_name));
  int status = 0;
  const bool exited = WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; },
                                std::chrono::seconds(20));
  if (!exited) {
    ::kill(pid, SIGKILL);  // what it started stays recorded: the harness kills it
    ::waitpid(pid, &status, 0);
  }
  std::ifstream log(h.dir().Path(log_name));
  std::string text(std::istreambuf_iterator<char>(log), {});
  return {exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1, std::move(text)};
}

// The child records in `dir`, by file name.
std::vector<std::string> ChildRecordsIn(const std::string& dir) {
  std::vector<std::string> records;
  for (const std::string& name : DefaultFileSystem().ListDir(dir).value_or(
           std::vector<std::string>{})) {
    if (name.ends_with(".child")) {
      records.push_back(name);
    }
  }
  return records;
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

// The daemon's own status stays healthy (the component is optional): the journal and
// `rebound status` are where an operator notices that no snapshot is being taken.
TEST(DaemonStartupTest, ABrokenSnapshotRepositoryIsJournaledAndShownByStatus) {
  DaemonHarness h;
  std::filesystem::create_directories(h.dir().Path("data"));
  std::ofstream(h.dir().Path("data/snapshots")) << "not a repository";
  h.Start(StartupSleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  nlohmann::json events;
  ASSERT_TRUE(WaitUntil([&] {
    auto found = h.Get("/v1/events?category=daemon&kind=snapshots_unavailable");
    events = found ? (*found)["events"] : nlohmann::json();
    return events.is_array() && !events.empty();
  })) << h.DaemonLog();
  ASSERT_EQ(events.size(), 1u);
  const std::string message = events[0]["data"]["message"];
  EXPECT_EQ((*h.Get("/health"))["components"]["snapshots"]["message"], message);
  EXPECT_NE(message.find(h.dir().Path("data/snapshots")), std::string::npos) << message;
  CliResult status = RunCli(h, "status");
  EXPECT_EQ(status.exit_code, 0) << status.output;  // healthy: the services run
  EXPECT_NE(status.output.find("\nhealthy\n" + message + "\n"), std::string::npos)
      << status.output;
}

// The restore_module recovery action without snapshots fails with what is wrong with the
// repository, not with a vague "no module state".
TEST(DaemonStartupTest, ARestoreModuleRecoveryWithoutSnapshotsFailsWithTheRepositorysError) {
  DaemonHarness h;
  std::filesystem::create_directories(h.dir().Path("data"));
  std::ofstream(h.dir().Path("data/snapshots")) << "not a repository";
  h.Start("[snapshots.modules.llm]\nrestore = { file = \"" + h.dir().Path("llm.json") + "\" }\n" +
          StartupSleeper("api") +
          "[services.api.recovery]\nactions = [\"restore_module\", \"restart\"]\n"
          "restore_modules = [\"llm\"]\n");
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] {
    return (*h.Get("/health"))["components"]["snapshots"]["status"] == "unavailable";
  }));
  ASSERT_EQ(RunCli(h, "trigger api").exit_code, 0);
  std::string failure;
  ASSERT_TRUE(WaitUntil([&] {
    auto events = h.Get("/v1/events?subject=api&kind=recovery_failed");
    if (!events || !(*events)["events"].is_array() || (*events)["events"].empty()) {
      return false;
    }
    failure = (*events)["events"][0]["data"]["message"];
    return true;
  })) << h.DaemonLog();
  EXPECT_NE(failure.find("restore_module action: snapshots are unavailable: "), std::string::npos)
      << failure;
  EXPECT_NE(failure.find(h.dir().Path("data/snapshots")), std::string::npos) << failure;
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

// Shims are known by their name and run directory alone: two daemons on one run_dir would
// adopt and signal each other's services, so the second refuses to start.
TEST(DaemonStartupTest, ASecondDaemonOnTheSameRunDirRefusesToStart) {
  DaemonHarness first;
  const std::string shared = first.dir().Path("shared-run");
  first.SetRunDir(shared);
  const pid_t first_pid = first.Start(StartupSleeper("api"));
  const int api = first.WaitForPid("api");
  ASSERT_GT(api, 0);
  DaemonHarness second;  // another data directory
  second.SetRunDir(shared);
  second.WriteConfig(StartupSleeper("api"));
  auto [code, log] = ServeUntilExit(second, "second.log");
  EXPECT_EQ(code, 1);
  EXPECT_NE(log.find("daemon.run_dir " + shared + " is already used by another rebound daemon (pid " +
                     std::to_string(first_pid) + ", data_dir " + first.dir().Path("data") + ")"),
            std::string::npos)
      << log;
  EXPECT_EQ(first.WaitForPid("api"), api);  // untouched: not adopted, not signalled
  EXPECT_EQ(ChildRecordsIn(shared), std::vector<std::string>{"api.child"});
  EXPECT_EQ(first.Terminate(), 0);  // gracefully: the run directory is free again
  second.Start(StartupSleeper("api"));
  EXPECT_GT(second.WaitForPid("api"), 0) << second.DaemonLog();
}

}  // namespace
}  // namespace rebound::testing
