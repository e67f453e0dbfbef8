// The daemon with real processes: restart policies, backoff, intensity, dependency order,
// stop timeouts, re-adoption after kill -9, pid-reuse safety, one daemon per data dir.

#include <filesystem>

#include <gtest/gtest.h>

#include "daemon_harness.h"
#include "store/store.h"
#include "supervise/process_info.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFastBackoff =
    "backoff = { strategy = \"fixed\", initial = \"50ms\", max = \"50ms\", jitter = \"none\" }\n";

std::string Sleeper(const std::string& name, const std::string& extra = "") {
  return "[services." + name + "]\ncommand = [\"sleep\", \"1000\"]\n" + kFastBackoff + extra + "\n";
}

TEST(DaemonTest, RestartsACrashedServiceAndReportsItsOwnPid) {
  DaemonHarness h;
  h.Start(Sleeper("api"));
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  auto comm = DefaultFileSystem().ReadFile("/proc/" + std::to_string(first) + "/comm");
  EXPECT_EQ(comm.value_or(""), "sleep\n");  // the service, not the shim
  ::kill(first, SIGKILL);
  const int second = h.WaitForPid("api", first);
  EXPECT_NE(second, first);
  auto api = h.Service("api");
  EXPECT_EQ(api["restarts"], 1);
  EXPECT_EQ(api["last_exit"]["signal"], 9);
}

TEST(DaemonTest, TooManyRestartsMakeItFatal) {
  DaemonHarness h;
  h.Start(std::string("[services.crasher]\ncommand = [\"sh\", \"-c\", \"exit 3\"]\n") +
          kFastBackoff + "intensity = { max_restarts = 3, within = \"60s\" }\n");
  ASSERT_TRUE(WaitUntil([&] { return h.State("crasher") == "fatal"; })) << h.DaemonLog();
  auto crasher = h.Service("crasher");
  EXPECT_EQ(crasher["restarts"], 3);
  EXPECT_EQ(crasher["last_exit"]["code"], 3);
  EXPECT_NE(crasher["message"].get<std::string>().find("too many restarts"), std::string::npos);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.Service("crasher")["restarts"], 3);        // stays down
  EXPECT_EQ(h.Post("/v1/services/crasher/start"), 202);  // until started by hand
  EXPECT_TRUE(WaitUntil(
      [&] { return h.Service("crasher")["last_exit"]["at_ms"] != crasher["last_exit"]["at_ms"]; }));
}

TEST(DaemonTest, RestartPoliciesAlwaysOnFailureNever) {
  DaemonHarness h;
  h.Start(
      std::string("[services.always]\ncommand = [\"sh\", \"-c\", \"sleep 0.2; exit 0\"]\n") +
      kFastBackoff + "intensity = { max_restarts = 100, within = \"60s\" }\n" +
      "[services.clean_exit]\ncommand = [\"sh\", \"-c\", \"exit 0\"]\nrestart = \"on-failure\"\n" +
      kFastBackoff + "[services.failing]\ncommand = [\"sh\", \"-c\", \"exit 1\"]\n" +
      "restart = \"on-failure\"\n" + kFastBackoff +
      "intensity = { max_restarts = 2, within = \"60s\" }\n" +
      "[services.once]\ncommand = [\"sh\", \"-c\", \"exit 1\"]\nrestart = \"never\"\n");
  ASSERT_TRUE(WaitUntil([&] { return h.Service("always")["restarts"] >= 2; })) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] { return h.State("clean_exit") == "exited"; }));
  ASSERT_TRUE(WaitUntil([&] { return h.State("failing") == "fatal"; }));
  ASSERT_TRUE(WaitUntil([&] { return h.State("once") == "exited"; }));
  EXPECT_EQ(h.Service("clean_exit")["restarts"], 0);
  EXPECT_EQ(h.Service("once")["restarts"], 0);
  EXPECT_EQ(h.Service("failing")["restarts"], 2);
}

TEST(DaemonTest, StartsInDependencyOrderAndStopsInReverse) {
  DaemonHarness h;
  h.Start(Sleeper("worker", "depends_on = { api = \"started\" }\n") +
          Sleeper("api", "depends_on = { db = \"started\" }\n") + Sleeper("db"));
  for (const char* name : {"db", "api", "worker"}) {
    ASSERT_GT(h.WaitForPid(name), 0) << name << h.DaemonLog();
  }
  ASSERT_EQ(h.Terminate(), 0) << h.DaemonLog();
  auto store = store::Store::Open(h.dir().Path("data"));
  ASSERT_TRUE(store.ok());
  std::vector<std::string> started, stopping;
  for (const auto& event : *(*store)->journal().Query({.category = "service"})) {
    if (event.kind == "started") started.push_back(event.subject);
    if (event.kind == "stopping") stopping.push_back(event.subject);
  }
  EXPECT_EQ(started, (std::vector<std::string>{"db", "api", "worker"}));
  EXPECT_EQ(stopping, (std::vector<std::string>{"worker", "api", "db"}));
}

TEST(DaemonTest, AServiceThatIgnoresTheStopSignalIsKilledAfterTheTimeout) {
  DaemonHarness h;
  // The shell touches `trapped` once SIGTERM is ignored: a stop asked before that (a loaded
  // machine can delay the shell) would end it by SIGTERM and test nothing.
  const std::string trapped = h.dir().Path("trapped");
  h.Start(
      "[services.stubborn]\n"
      "command = [\"sh\", \"-c\", \"trap '' TERM; touch " + trapped +
      "; while :; do sleep 0.05; done\"]\n"
      "stop_timeout = \"500ms\"\n");
  ASSERT_GT(h.WaitForPid("stubborn"), 0) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(trapped); })) << h.DaemonLog();
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_EQ(h.Post("/v1/services/stubborn/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("stubborn") == "stopped"; })) << h.DaemonLog();
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 500ms);
  EXPECT_EQ(h.Service("stubborn")["last_exit"]["signal"], 9);
  EXPECT_NE(h.DaemonLog().find("sending SIGKILL"), std::string::npos);
}

TEST(DaemonTest, ServicesSurviveKillNineOfTheDaemonAndAreReadopted) {
  DaemonHarness h;
  h.Start(Sleeper("kept") + Sleeper("dies_meanwhile"));
  const int kept = h.WaitForPid("kept");
  const int doomed = h.WaitForPid("dies_meanwhile");
  ASSERT_GT(kept, 0);
  h.Kill();
  EXPECT_TRUE(ProcessAlive(kept));
  ::kill(doomed, SIGKILL);  // its shim records the exit while no daemon watches
  std::this_thread::sleep_for(100ms);
  h.Start();
  EXPECT_EQ(h.WaitForPid("kept"), kept);  // same process: not restarted
  EXPECT_EQ(h.Service("kept")["restarts"], 0);
  const int replaced = h.WaitForPid("dies_meanwhile", doomed);
  EXPECT_NE(replaced, doomed);
  EXPECT_NE(h.DaemonLog().find("re-adopted"), std::string::npos);
  // The adopted service is still supervised.
  ::kill(kept, SIGKILL);
  EXPECT_NE(h.WaitForPid("kept", kept), kept);
}

TEST(DaemonTest, AfterADaemonCrashHandStoppedServicesStayStoppedAndCountsCarryOn) {
  DaemonHarness h;
  h.Start(Sleeper("stopped_by_hand") + Sleeper("crashy"));
  h.WaitForPid("stopped_by_hand");
  const int first = h.WaitForPid("crashy");
  ::kill(first, SIGKILL);
  h.WaitForPid("crashy", first);
  ASSERT_EQ(h.Service("crashy")["restarts"], 1);
  ASSERT_EQ(h.Post("/v1/services/stopped_by_hand/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("stopped_by_hand") == "stopped"; }));
  std::this_thread::sleep_for(100ms);  // the desired state reaches the store (group commit)
  h.Kill();
  h.Start();
  EXPECT_EQ(h.Service("crashy")["restarts"], 1);  // re-adopted, count carried on
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(h.State("stopped_by_hand"), "stopped");  // not started again
  EXPECT_NE(h.Service("stopped_by_hand")["message"].get<std::string>().find("stopped by hand"),
            std::string::npos);
  ASSERT_EQ(h.Post("/v1/services/stopped_by_hand/start"), 202);
  EXPECT_GT(h.WaitForPid("stopped_by_hand"), 0);
  h.Kill();  // and a start by hand is remembered too
  h.Start();
  EXPECT_GT(h.WaitForPid("stopped_by_hand"), 0);
}

TEST(DaemonTest, AReusedPidIsNeverAdoptedOrSignalled) {
  DaemonHarness h;
  h.WriteConfig(Sleeper("api"));
  // An unrelated process that a stale record points at (as if the pid had been reused).
  const pid_t bystander = SpawnProcess({"sleep", "1000"}, h.dir().Path("bystander.log"));
  ASSERT_TRUE(DefaultFileSystem().CreateDirs(h.dir().Path("data/run")).ok());
  supervise::ChildRecord stale{.name = "api",
                               .shim_pid = bystander,
                               .child_pid = bystander,
                               .child_start_time = 1,
                               .started_ms = 1};
  ASSERT_TRUE(
      supervise::WriteChildRecord(DefaultFileSystem(), h.dir().Path("data/run/api.child"), stale)
          .ok());
  h.Start();
  const int pid = h.WaitForPid("api");
  EXPECT_NE(pid, bystander);
  EXPECT_TRUE(ProcessAlive(bystander));
  ::kill(bystander, SIGKILL);
  ::waitpid(bystander, nullptr, 0);
}

TEST(DaemonTest, ASecondDaemonOnTheSameDataDirIsRefused) {
  DaemonHarness h;
  const pid_t first = h.Start(Sleeper("api"));
  ASSERT_GT(h.WaitForPid("api"), 0);
  const pid_t second =
      SpawnProcess({REBOUND_BINARY, "serve", "--config", h.dir().Path("rebound.toml")},
                   h.dir().Path("second.log"));
  int status = 0;
  ASSERT_EQ(::waitpid(second, &status, 0), second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  std::ifstream log(h.dir().Path("second.log"));
  const std::string text(std::istreambuf_iterator<char>(log), {});
  EXPECT_NE(text.find("another rebound daemon (pid " + std::to_string(first) + ")"),
            std::string::npos)
      << text;
}

// PING over a raw loopback socket; "+PONG" when redis answers.
std::string RedisPing(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::write(fd, "PING\r\n", 6) == 6) {
    char buffer[64];
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    reply.assign(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  }
  ::close(fd);
  return reply;
}

TEST(DaemonTest, SupervisesARealRedisServer) {
  DaemonHarness h;
  const int redis_port = FreeLoopbackPort();
  h.Start("[services.db]\ncommand = [\"redis-server\", \"--port\", \"" +
          std::to_string(redis_port) +
          "\", \"--bind\", \"127.0.0.1\", \"--save\", \"\", \"--appendonly\", \"no\"]\n" +
          kFastBackoff);
  const int first = h.WaitForPid("db");
  ASSERT_GT(first, 0) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] { return RedisPing(redis_port).starts_with("+PONG"); }));
  ::kill(first, SIGKILL);
  const int second = h.WaitForPid("db", first);
  EXPECT_NE(second, first);
  EXPECT_TRUE(WaitUntil([&] { return RedisPing(redis_port).starts_with("+PONG"); }))
      << h.DaemonLog();
}

TEST(DaemonTest, StopSignalSigkillGoesToTheServiceNotItsShim) {
  DaemonHarness h;
  h.Start(Sleeper("api", "stop_signal = \"SIGKILL\"\n"));
  ASSERT_GT(h.WaitForPid("api"), 0) << h.DaemonLog();
  ASSERT_EQ(h.Post("/v1/services/api/stop"), 202);
  ASSERT_TRUE(WaitUntil([&] { return h.State("api") == "stopped"; })) << h.DaemonLog();
  EXPECT_EQ(h.Service("api")["last_exit"]["signal"], 9);  // recorded by the shim
}

TEST(DaemonTest, ServiceEnvironmentReachesTheServiceButNotAnyCommandLine) {
  DaemonHarness h;
  h.Start(
      "[services.api]\n"
      "command = [\"sh\", \"-c\", \"echo secret=$API_KEY; sleep 1000\"]\n"
      "env = { API_KEY = \"s3cr3t-value\" }\n");
  const int pid = h.WaitForPid("api");
  ASSERT_GT(pid, 0) << h.DaemonLog();
  ASSERT_TRUE(WaitUntil([&] {
    auto log = DefaultFileSystem().ReadFile(h.dir().Path("data/logs/api.log"));
    return log.ok() && log->find("secret=s3cr3t-value") != std::string::npos;
  }));
  for (const std::string& entry : *DefaultFileSystem().ListDir("/proc")) {
    auto cmdline = DefaultFileSystem().ReadFile("/proc/" + entry + "/cmdline");
    if (cmdline.ok()) {
      EXPECT_EQ(cmdline->find("s3cr3t-value"), std::string::npos) << "pid " << entry;
    }
  }
}

// A service's exit record is not fsynced (docs/shim.md): the daemon starts its shims with
// `--exit-record atomic`, and a crash recorded that way is still read and restarted.
TEST(DaemonTest, ServiceShimsWriteTheirExitRecordAtomicallyWithoutFsync) {
  DaemonHarness h;
  h.Start(Sleeper("api"));
  const int pid = h.WaitForPid("api");
  ASSERT_GT(pid, 0) << h.DaemonLog();
  auto child = supervise::ReadChildRecord(DefaultFileSystem(), h.dir().Path("data/run/api.child"));
  ASSERT_TRUE(child.ok()) << child.error().ToString();
  auto cmdline =
      DefaultFileSystem().ReadFile("/proc/" + std::to_string(child->shim_pid) + "/cmdline");
  ASSERT_TRUE(cmdline.ok());
  using namespace std::string_literals;
  EXPECT_NE(cmdline->find("\0--exit-record\0atomic\0"s), std::string::npos);
  ::kill(pid, SIGKILL);
  EXPECT_NE(h.WaitForPid("api", pid), pid);
  EXPECT_EQ(h.Service("api")["last_exit"]["signal"], 9);  // read from the shim's record
}

// A respawn's events are logged and journaled after the new shim is spawned (at the end of
// the reactor round), in the order the supervisor emitted them, none lost.
TEST(DaemonTest, ARespawnsEventsAreJournaledAndLoggedInOrder) {
  DaemonHarness h;
  h.Start(Sleeper("api"));
  const int first = h.WaitForPid("api");
  ASSERT_GT(first, 0) << h.DaemonLog();
  ::kill(first, SIGKILL);
  ASSERT_NE(h.WaitForPid("api", first), first) << h.DaemonLog();
  const std::vector<std::string> expected = {"starting",          "started",  "exited",
                                             "restart_scheduled", "starting", "started"};
  std::vector<std::string> kinds;
  ASSERT_TRUE(WaitUntil([&] {
    auto events = h.Get("/v1/events?subject=api");
    kinds.clear();
    for (const auto& event : (events ? (*events)["events"] : nlohmann::json::array())) {
      kinds.push_back(event["kind"].get<std::string>());
    }
    return kinds.size() >= expected.size();
  }));
  EXPECT_EQ(kinds, expected);
  const std::string log = h.DaemonLog();
  size_t at = 0;
  for (const std::string& kind : expected) {
    at = log.find("api: " + kind + ": ", at);
    ASSERT_NE(at, std::string::npos) << kind << " missing or out of order in\n" << log;
    ++at;
  }
}

TEST(DaemonTest, GracefulShutdownStopsServicesAndExitsZero) {
  DaemonHarness h;
  h.Start(Sleeper("api"));
  const int pid = h.WaitForPid("api");
  ASSERT_EQ(h.Terminate(), 0);
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pid); }));
}

}  // namespace
}  // namespace rebound::testing
