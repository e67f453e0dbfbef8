// The daemon with shims that restart their service themselves (a zero backoff): the same
// shim, the new pid in the API, the restart counted and journaled, FATAL as before, and
// re-adoption of a shim that restarted its service while no daemon watched.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "daemon_harness.h"
#include "supervise/exit_record.h"
#include "supervise/process_info.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kZeroBackoff =
    "backoff = { strategy = \"fixed\", initial = \"0s\", max = \"0s\", jitter = \"none\" }\n";

std::string ImmediateSleeper(const std::string& name) {
  return "[services." + name + "]\ncommand = [\"sleep\", \"1000\"]\n" + kZeroBackoff +
         "intensity = { max_restarts = 5, within = \"60s\" }\n\n";
}

supervise::ChildRecord ChildOf(DaemonHarness& h, const std::string& name) {
  auto record =
      supervise::ReadChildRecord(DefaultFileSystem(), h.dir().Path("data/run/" + name + ".child"));
  return record.value_or(supervise::ChildRecord{});
}

std::vector<std::string> EventKinds(DaemonHarness& h, const std::string& subject) {
  std::vector<std::string> kinds;
  auto events = h.Get("/v1/events?subject=" + subject);
  for (const auto& event : (events ? (*events)["events"] : nlohmann::json::array())) {
    kinds.push_back(event["kind"].get<std::string>());
  }
  return kinds;
}

TEST(DaemonRespawnTest, ASigkilledServiceIsRestartedByItsOwnShim) {
  DaemonHarness h;
  h.Start(ImmediateSleeper("api"));
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  const int shim = ChildOf(h, "api").shim_pid;
  ASSERT_GT(shim, 0);
  // The allowance went to the shim in the reactor round that launched it, before the pid
  // could be published: by now it is pending on the shim (which starts with it blocked).
  ::kill(first, SIGKILL);
  const int second = h.WaitForPid("api", first);
  ASSERT_NE(second, first) << h.DaemonLog();
  EXPECT_EQ(ChildOf(h, "api").shim_pid, shim);  // no new shim
  EXPECT_EQ(ChildOf(h, "api").generation, 1u);
  ASSERT_TRUE(WaitUntil([&] { return h.Service("api")["restarts"] == 1; })) << h.DaemonLog();
  EXPECT_EQ(h.Service("api")["last_exit"]["signal"], 9);
  const std::vector<std::string> expected = {"starting", "started", "exited", "started"};
  std::vector<std::string> kinds;
  EXPECT_TRUE(WaitUntil([&] {
    kinds = EventKinds(h, "api");
    return kinds.size() >= expected.size();
  }));
  EXPECT_EQ(kinds, expected);
}

TEST(DaemonRespawnTest, TooManyRestartsAreFatalExactlyAsBefore) {
  DaemonHarness h;
  h.Start(std::string("[services.crasher]\ncommand = [\"sh\", \"-c\", \"sleep 0.05; exit 3\"]\n") +
          kZeroBackoff + "intensity = { max_restarts = 3, within = \"60s\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.State("crasher") == "fatal"; })) << h.DaemonLog();
  auto crasher = h.Service("crasher");
  EXPECT_EQ(crasher["restarts"], 3);
  EXPECT_EQ(crasher["last_exit"]["code"], 3);
  EXPECT_NE(crasher["message"].get<std::string>().find("too many restarts"), std::string::npos);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.Service("crasher")["restarts"], 3);  // stays down: no shim restarts it
  EXPECT_EQ(h.State("crasher"), "fatal");
  // Every exit counts once, also those the shim restarted and reported together.
  httplib::Client client("127.0.0.1", h.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(
      metrics->body.find("rebound_service_exits_total{service=\"crasher\",reason=\"failure\"} 4\n"),
      std::string::npos)
      << metrics->body;
}

// A service that exits at once: its shim's restarts (5 ms apart or less) are often reported
// several in one NAME.child read; the exits metric counts each, as it would our own restarts.
TEST(DaemonRespawnTest, EveryExitOfAFastCrashLoopIsCounted) {
  DaemonHarness h;
  h.Start(std::string("[services.crasher]\ncommand = [\"sh\", \"-c\", \"exit 3\"]\n") +
          kZeroBackoff + "intensity = { max_restarts = 5, within = \"60s\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.State("crasher") == "fatal"; })) << h.DaemonLog();
  EXPECT_EQ(h.Service("crasher")["restarts"], 5);
  httplib::Client client("127.0.0.1", h.port());
  std::string body;
  EXPECT_TRUE(WaitUntil([&] {
    auto metrics = client.Get("/metrics");
    body = metrics ? metrics->body : "";
    return body.find("rebound_service_exits_total{service=\"crasher\",reason=\"failure\"} 6\n") !=
           std::string::npos;
  })) << body;
}

TEST(DaemonRespawnTest, AStopAfterASelfRestartStopsForGood) {
  DaemonHarness h;
  h.Start(ImmediateSleeper("api"));
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  ::kill(first, SIGKILL);
  const int second = h.WaitForPid("api", first);
  ASSERT_NE(second, first);
  ASSERT_EQ(h.Post("/v1/services/api/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("api") == "stopped"; })) << h.DaemonLog();
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(second); }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(h.State("api"), "stopped");
  EXPECT_FALSE(DefaultFileSystem().Exists(h.dir().Path("data/run/api.child")));
}

TEST(DaemonRespawnTest, ANewDaemonAdoptsTheChildItsShimRestartedMeanwhile) {
  DaemonHarness h;
  h.Start(ImmediateSleeper("api"));
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  const int shim = ChildOf(h, "api").shim_pid;
  h.Kill();
  ::kill(first, SIGKILL);  // the shim restarts it on the dead daemon's allowance
  ASSERT_TRUE(WaitUntil([&] { return ChildOf(h, "api").generation == 1; }));
  const int restarted = ChildOf(h, "api").child_pid;
  ASSERT_NE(restarted, first);
  h.Start();
  EXPECT_EQ(h.WaitForPid("api"), restarted);  // adopted, not started again
  EXPECT_EQ(ChildOf(h, "api").shim_pid, shim);
  EXPECT_NE(h.DaemonLog().find("re-adopted"), std::string::npos);
  // The new daemon grants its own allowance: the same shim restarts it again.
  ::kill(restarted, SIGKILL);
  const int third = h.WaitForPid("api", restarted);
  EXPECT_NE(third, restarted);
  EXPECT_EQ(ChildOf(h, "api").shim_pid, shim);
  EXPECT_EQ(ChildOf(h, "api").generation, 2u);
  EXPECT_TRUE(WaitUntil([&] { return h.Service("api")["restarts"] == 1; })) << h.DaemonLog();
}

// Processes whose command line is exactly `sleep SECONDS`.
int CountSleepers(const std::string& seconds) {
  const std::string wanted = std::string("sleep") + '\0' + seconds + '\0';
  int count = 0;
  for (const std::string& entry : DefaultFileSystem().ListDir("/proc").value_or({})) {
    if (!entry.empty() && std::all_of(entry.begin(), entry.end(), ::isdigit) &&
        DefaultFileSystem().ReadFile("/proc/" + entry + "/cmdline").value_or("") == wanted) {
      ++count;
    }
  }
  return count;
}

// A restart asked for just as the service dies: whichever comes first, the service ends up
// running once, never twice (the revoke goes before the stop signal, and a restart that raced
// it is stopped with the rest).
TEST(DaemonRespawnTest, ARestartRacingACrashLeavesExactlyOneInstance) {
  DaemonHarness h;
  const std::string seconds = std::to_string(900000 + ::getpid() % 90000);
  h.Start("[services.api]\ncommand = [\"sleep\", \"" + seconds + "\"]\n" + kZeroBackoff +
          "stop_timeout = \"1s\"\nintensity = { max_restarts = 50, within = \"60s\" }\n");
  int pid = h.WaitForPid("api");
  ASSERT_GT(pid, 0) << h.DaemonLog();
  for (int round = 0; round < 5; ++round) {
    ::kill(pid, SIGKILL);
    ASSERT_EQ(h.Post("/v1/services/api/restart"), 202);
    const int next = h.WaitForPid("api", pid);
    ASSERT_NE(next, pid) << h.DaemonLog();
    pid = next;
  }
  ASSERT_TRUE(WaitUntil([&] {
    return CountSleepers(seconds) == 1 && h.State("api") == "running" && h.Pid("api") != 0 &&
           ProcessAlive(h.Pid("api"));
  })) << CountSleepers(seconds)
      << " instances\n"
      << h.DaemonLog();
  // And it stays one: a second instance started late (a restart that raced the stop and
  // was not stopped) would show up after the first moment the count was 1.
  for (int poll = 0; poll < 20; ++poll) {
    std::this_thread::sleep_for(50ms);
    ASSERT_EQ(CountSleepers(seconds), 1) << "after " << (poll + 1) * 50 << " ms\n" << h.DaemonLog();
  }
}

TEST(DaemonRespawnTest, AGracefulShutdownLeavesNoServiceBehind) {
  DaemonHarness h;
  const std::string seconds = std::to_string(800000 + ::getpid() % 90000);
  h.Start("[services.api]\ncommand = [\"sleep\", \"" + seconds + "\"]\n" + kZeroBackoff);
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  ::kill(first, SIGKILL);
  ASSERT_NE(h.WaitForPid("api", first), first);
  EXPECT_EQ(h.Terminate(), 0);
  EXPECT_TRUE(WaitUntil([&] { return CountSleepers(seconds) == 0; }))
      << CountSleepers(seconds) << " left";
}

}  // namespace
}  // namespace rebound::testing
