// Durable jobs under the shared job runner (`rebound runner`, docs/shim.md): many jobs through
// one runner, cancel and timeout reaching the job's whole process group, a daemon killed
// while jobs run (the runner and its jobs go on; the next daemon re-connects), and the runner
// itself killed (its jobs' outcomes are unknown: retried if idempotent, else interrupted).

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "daemon_harness.h"
#include "supervise/child_table.h"
#include "supervise/process_info.h"
#include "supervise/runner_protocol.h"

extern char** environ;

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kQueueAndService =
    "[queues.wide]\nconcurrency = 16\n\n"
    "[services.idle]\ncommand = [\"sleep\", \"1000\"]\n";
// Named, not left to the default (which it is): these tests are of the runner.
const std::string kRunnerConfig = std::string("[jobs]\nrunner = \"shared\"\n\n") + kQueueAndService;

// A process that is gone or only a zombie (an orphan nobody has reaped yet) runs no more.
bool IsGoneOrZombie(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return text.empty() || (paren != std::string::npos && text.substr(paren + 2, 1) == "Z");
}

int ParentOf(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  std::istringstream rest(paren == std::string::npos ? "" : text.substr(paren + 2));
  std::string state;
  int parent = 0;
  rest >> state >> parent;
  return parent;
}

std::string CommandLine(int pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::replace(text.begin(), text.end(), '\0', ' ');
  return text;
}

class JobRunnerTest : public ::testing::Test {
 protected:
  // The runner is named, not left to the default: these tests cover it whatever the default.
  void SetUp() override { h_.Start(kRunnerConfig); }

  std::pair<int, json> Send(const std::string& method, const std::string& path,
                            const json& body = nullptr) {
    return method == "POST" ? h_.PostJson(path, body.is_null() ? "" : body.dump())
                            : h_.GetJson(path);
  }
  int64_t Submit(const std::string& script, json extra = json::object()) {
    extra["command"] = {"sh", "-c", script};
    extra["cwd"] = h_.dir().Path("");
    auto [status, job] = Send("POST", "/v1/jobs", extra);
    EXPECT_EQ(status, 201) << job.dump();
    return job.value("id", int64_t{-1});
  }
  json Job(int64_t id) { return Send("GET", "/v1/jobs/" + std::to_string(id)).second; }
  std::string State(int64_t id) { return Job(id).value("state", ""); }
  bool WaitForState(int64_t id, const std::string& state, std::chrono::milliseconds timeout = 10s) {
    return WaitUntil([&] { return State(id) == state; }, timeout);
  }
  std::string Read(const std::string& name) {
    return DefaultFileSystem().ReadFile(h_.dir().Path(name)).value_or("");
  }
  int ReadPid(const std::string& name) {
    const std::string text = Read(name);
    return text.empty() ? 0 : std::stoi(text);
  }
  Result<supervise::ChildRecord> ChildOf(int64_t id) {
    return supervise::FindChildRecord(DefaultFileSystem(), h_.dir().Path("data/run"),
                                      "job:" + std::to_string(id));
  }
  // The runner of this data directory, from the child record of a running job.
  int RunnerPid(int64_t id) {
    auto child = ChildOf(id);
    return child.ok() ? child->shim_pid : 0;
  }
  // What the run directory holds besides the runner's own files (job:runner.*).
  std::vector<std::string> JobFilesInRunDir() {
    std::vector<std::string> files;
    for (const std::string& name :
         DefaultFileSystem().ListDir(h_.dir().Path("data/run")).value_or({})) {
      if (name.starts_with("job:") && !name.starts_with("job:runner.")) {
        files.push_back(name);
      }
    }
    return files;
  }

  DaemonHarness h_;
};

TEST_F(JobRunnerTest, ManyJobsRunAsChildrenOfOneRunner) {
  constexpr int kJobs = 60;
  std::vector<int64_t> ids;
  for (int i = 0; i < kJobs; ++i) {
    ids.push_back(Submit("echo $PPID > parent.$REBOUND_JOB_ID; echo out-$REBOUND_JOB_ID",
                         {{"queue", "wide"}}));
  }
  for (int64_t id : ids) {
    ASSERT_TRUE(WaitForState(id, "succeeded", 20s)) << Job(id).dump() << h_.DaemonLog();
  }
  std::set<int> parents;
  for (int64_t id : ids) {
    parents.insert(ReadPid("parent." + std::to_string(id)));
    EXPECT_NE(
        Read("data/logs/job:" + std::to_string(id) + ".log").find("out-" + std::to_string(id)),
        std::string::npos);
  }
  ASSERT_EQ(parents.size(), 1u) << "every job's parent is the one runner";
  const int runner = *parents.begin();
  EXPECT_NE(CommandLine(runner).find("runner --run-dir " + h_.dir().Path("data/run")),
            std::string::npos)
      << CommandLine(runner);
  EXPECT_EQ(ParentOf(runner), h_.daemon_pid());
  // No file of a job is left in the run directory: exits stay in the runner's memory until
  // their outcomes are stored (or are removed once stored). The runner stays for more.
  EXPECT_TRUE(WaitUntil([&] { return JobFilesInRunDir().empty(); }));
  EXPECT_TRUE(DefaultFileSystem().Exists(h_.dir().Path("data/run/job:runner.children")));
}

TEST_F(JobRunnerTest, CancelAndTimeoutStopTheJobsWholeProcessGroup) {
  const std::string script = "sleep 1000 & echo $! > grandchild.$REBOUND_JOB_ID; wait";
  const int64_t cancelled = Submit(script, {{"queue", "wide"}});
  const int64_t timed_out =
      Submit(script, {{"queue", "wide"}, {"timeout", "300ms"}, {"retry", {{"max_attempts", 1}}}});
  ASSERT_TRUE(WaitUntil([&] {
    return ReadPid("grandchild." + std::to_string(cancelled)) > 0 &&
           ReadPid("grandchild." + std::to_string(timed_out)) > 0;
  }));
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(cancelled) + "/cancel").first, 202);
  ASSERT_TRUE(WaitForState(cancelled, "cancelled")) << Job(cancelled).dump();
  ASSERT_TRUE(WaitForState(timed_out, "exhausted")) << Job(timed_out).dump();
  // SIGTERM went to the group: the background sleep died with the shell.
  EXPECT_TRUE(WaitUntil(
      [&] { return IsGoneOrZombie(ReadPid("grandchild." + std::to_string(cancelled))); }));
  EXPECT_TRUE(WaitUntil(
      [&] { return IsGoneOrZombie(ReadPid("grandchild." + std::to_string(timed_out))); }));
  EXPECT_EQ(Job(timed_out)["error_category"], "timeout") << Job(timed_out).dump();
  EXPECT_NE(Read("data/logs/job:" + std::to_string(cancelled) + ".log").find("sent SIGTERM"),
            std::string::npos);
}

// A job's log is created once it has something to say. A silent success leaves none (the job's
// record says all); a silent failure's log says how it ended; output follows the start note.
TEST_F(JobRunnerTest, ALogIsCreatedOnlyForOutputOrAFailure) {
  const int64_t silent = Submit("true");
  const int64_t fails = Submit("exit 3");
  const int64_t prints = Submit("echo hello");
  ASSERT_TRUE(WaitForState(silent, "succeeded")) << Job(silent).dump();
  ASSERT_TRUE(WaitForState(fails, "failed")) << Job(fails).dump();
  ASSERT_TRUE(WaitForState(prints, "succeeded")) << Job(prints).dump();
  auto log = [&](int64_t id) { return "data/logs/job:" + std::to_string(id) + ".log"; };
  EXPECT_FALSE(DefaultFileSystem().Exists(h_.dir().Path(log(silent))));
  auto [status, logs] = Send("GET", "/v1/jobs/" + std::to_string(silent) + "/logs");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(logs["data"], "") << logs.dump();
  EXPECT_EQ(logs["finished"], true) << logs.dump();
  const std::string failed = Read(log(fails));
  EXPECT_NE(failed.find("[rebound-shim] started 'sh' as pid"), std::string::npos) << failed;
  EXPECT_NE(failed.find("job:" + std::to_string(fails) + " exited with code 3"), std::string::npos)
      << failed;
  const std::string printed = Read(log(prints));
  EXPECT_LT(printed.find("started 'sh'"), printed.find("hello\n")) << printed;
  EXPECT_NE(printed.find("exited with code 0"), std::string::npos) << printed;
}

// A silent attempt after one that left a log rotates it as ever, and writes its own notes:
// the log never ends with an earlier attempt's failure while the job succeeded.
TEST_F(JobRunnerTest, ASilentRetryAfterALoggedFailureStillGetsItsOwnLog) {
  const int64_t id = Submit("[ -e tried.$REBOUND_JOB_ID ] && exit 0; touch tried.$REBOUND_JOB_ID; exit 75",
                            {{"retry", {{"max_attempts", 2}, {"initial", "10ms"}}}});
  ASSERT_TRUE(WaitForState(id, "succeeded")) << Job(id).dump();
  EXPECT_EQ(Job(id)["attempt"], 2);
  const std::string log = "data/logs/job:" + std::to_string(id) + ".log";
  EXPECT_NE(Read(log + ".1").find("exited with code 75"), std::string::npos) << Read(log + ".1");
  EXPECT_NE(Read(log).find("exited with code 0"), std::string::npos) << Read(log);
  EXPECT_EQ(Read(log).find("code 75"), std::string::npos) << Read(log);
}

TEST_F(JobRunnerTest, DaemonKilledWhileJobsRunTheNextOneReconnectsAndAppliesEveryOutcome) {
  const int64_t ok = Submit("echo run >> runs.ok; sleep 1", {{"queue", "wide"}});
  const int64_t fails = Submit("echo run >> runs.fails; sleep 1; exit 64", {{"queue", "wide"}});
  const int64_t quick = Submit("echo run >> runs.quick; sleep 0.2; exit 3", {{"queue", "wide"}});
  const int64_t long_one = Submit("echo run >> runs.long; sleep 30", {{"queue", "wide"}});
  ASSERT_TRUE(WaitUntil([&] {
    return !Read("runs.ok").empty() && !Read("runs.fails").empty() && !Read("runs.quick").empty() &&
           !Read("runs.long").empty() && RunnerPid(long_one) > 0;
  }));
  const int runner = RunnerPid(long_one);
  h_.Kill();
  // Ended while no daemon listened: the runner recorded it.
  ASSERT_TRUE(
      WaitUntil([&] { return !Read("data/run/job:" + std::to_string(quick) + ".exit").empty(); }));
  EXPECT_FALSE(IsGoneOrZombie(runner)) << "the runner outlives the daemon";
  h_.Start();
  ASSERT_TRUE(WaitForState(ok, "succeeded")) << Job(ok).dump() << h_.DaemonLog();
  ASSERT_TRUE(WaitForState(fails, "failed")) << Job(fails).dump();
  ASSERT_TRUE(WaitForState(quick, "failed")) << Job(quick).dump();
  EXPECT_EQ(Job(fails)["last_exit"]["code"], 64);
  EXPECT_EQ(Job(quick)["last_exit"]["code"], 3);
  EXPECT_EQ(State(long_one), "running");
  EXPECT_EQ(RunnerPid(long_one), runner) << "re-adopted under the same runner";
  for (const char* runs : {"runs.ok", "runs.fails", "runs.quick", "runs.long"}) {
    EXPECT_EQ(Read(runs), "run\n") << runs << ": no job started twice";
  }
  // The re-connected runner still takes signals and new jobs.
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(long_one) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(long_one, "cancelled"));
  const int64_t after = Submit("echo $PPID > parent.after", {{"queue", "wide"}});
  ASSERT_TRUE(WaitForState(after, "succeeded"));
  EXPECT_EQ(ReadPid("parent.after"), runner);
}

TEST_F(JobRunnerTest, RunnerKilledItsJobsHaveAnUnknownOutcome) {
  const int64_t idempotent = Submit("echo run >> runs.a; sleep 30", {{"queue", "wide"}});
  const int64_t not_idempotent =
      Submit("echo run >> runs.b; sleep 30", {{"queue", "wide"}, {"idempotent", false}});
  ASSERT_TRUE(WaitUntil([&] {
    return RunnerPid(idempotent) > 0 && RunnerPid(not_idempotent) > 0 && !Read("runs.a").empty() &&
           !Read("runs.b").empty();
  }));
  auto child = ChildOf(not_idempotent);
  ASSERT_TRUE(child.ok());
  // Their child records are slots of the runner's table (child_table.h), not a file per job.
  EXPECT_EQ(JobFilesInRunDir(), std::vector<std::string>{});
  const int runner = child->shim_pid;
  ASSERT_EQ(::kill(runner, SIGKILL), 0);
  ASSERT_TRUE(WaitForState(not_idempotent, "interrupted")) << Job(not_idempotent).dump();
  // The idempotent one runs again, under a new runner.
  ASSERT_TRUE(WaitUntil([&] { return Read("runs.a") == "run\nrun\n"; }, 15s))
      << Job(idempotent).dump();
  EXPECT_EQ(Job(idempotent)["attempt"], 2);
  EXPECT_EQ(Job(not_idempotent)["last_exit"]["code"], nullptr);
  EXPECT_EQ(Read("runs.b"), "run\n");
  // Nobody records the orphaned job any more: the daemon killed it (pid and start time checked).
  EXPECT_TRUE(WaitUntil([&] { return IsGoneOrZombie(child->child_pid); }));
  EXPECT_NE(RunnerPid(idempotent), runner);
  // The new runner writes a new job:runner.log; the dead one's is kept, rotated.
  EXPECT_TRUE(DefaultFileSystem().Exists(h_.dir().Path("data/logs/job:runner.log.1")));
  EXPECT_TRUE(DefaultFileSystem().Exists(h_.dir().Path("data/logs/job:runner.log")));
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(idempotent) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(idempotent, "cancelled"));
}

// The daemon's hello offers `forget` on the socketpair and the runner's answer does too, so a
// stored outcome is forgotten: a daemon killed later leaves the runner nothing of it to write.
// (Were the two sides to disagree, the runner would keep the exit until the connection ends,
// then write job:ID.exit.)
TEST_F(JobRunnerTest, StoredOutcomesAreForgottenSoADaemonKilledLaterLeavesNoRecordOfThem) {
  const int64_t first = Submit("echo $PPID > parent.first");
  ASSERT_TRUE(WaitForState(first, "succeeded")) << Job(first).dump() << h_.DaemonLog();
  // The first's forget is sent before the second's start (commits resolve in order), on the
  // same connection: once the second has ended, the runner has handled it.
  const int64_t second = Submit("true");
  ASSERT_TRUE(WaitForState(second, "succeeded")) << Job(second).dump();
  const int runner = ReadPid("parent.first");
  ASSERT_GT(runner, 0);
  h_.Kill();
  // With no daemon and no job, it writes what it still keeps, then exits.
  ASSERT_TRUE(WaitUntil([&] { return IsGoneOrZombie(runner); }));
  EXPECT_FALSE(
      DefaultFileSystem().Exists(h_.dir().Path("data/run/job:" + std::to_string(first) + ".exit")));
}

// Killed together, as by a host-wide kill: the next daemon finds no runner and no exit record.
TEST_F(JobRunnerTest, DaemonAndRunnerKilledTogetherTheNextDaemonRetriesIdempotentJobs) {
  const int64_t id = Submit("echo run >> runs; sleep 30", {{"queue", "wide"}});
  ASSERT_TRUE(WaitUntil([&] { return RunnerPid(id) > 0 && !Read("runs").empty(); }));
  const int runner = RunnerPid(id);
  h_.Kill();
  ::kill(runner, SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return IsGoneOrZombie(runner); }));
  h_.Start();
  ASSERT_TRUE(WaitUntil([&] { return Read("runs") == "run\nrun\n"; }))
      << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Job(id)["attempt"], 2);
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(id, "cancelled"));
}

// Switched to a shim per attempt after the daemon and its runner were both killed: the job's
// process, orphaned, is found by its child record in the dead runner's table and killed before
// the job runs again under a shim: never twice at once.
TEST_F(JobRunnerTest, SwitchedToPerJobADeadRunnersOrphanIsKilledBeforeTheJobRunsAgain) {
  const int64_t id = Submit("echo $$ >> pids; sleep 30", {{"queue", "wide"}});
  ASSERT_TRUE(WaitUntil([&] { return RunnerPid(id) > 0 && !Read("pids").empty(); }));
  const int first = ChildOf(id)->child_pid;
  const int runner = RunnerPid(id);
  h_.Kill();
  ::kill(runner, SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return IsGoneOrZombie(runner); }));
  ASSERT_FALSE(IsGoneOrZombie(first)) << "the job outlives its runner";
  h_.Start(std::string("[jobs]\nrunner = \"per-job\"\n\n") + kQueueAndService);
  auto runs = [&] {
    const std::string pids = Read("pids");
    return std::count(pids.begin(), pids.end(), '\n');
  };
  ASSERT_TRUE(WaitUntil([&] { return runs() == 2; })) << Job(id).dump() << h_.DaemonLog();
  EXPECT_TRUE(IsGoneOrZombie(first)) << "the orphan was killed before the job ran again";
  EXPECT_EQ(Job(id)["attempt"], 2);
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(id, "cancelled"));
}

TEST_F(JobRunnerTest, LostConnectionToALiveRunnerReconnectsAndKeepsItsJobs) {
  // Waits for `go`, or ends once the temp dir is gone: a test killed midway leaks no job.
  const int64_t id = Submit(
      "echo run >> runs; while [ ! -e go ] && [ -e runs ]; do sleep 0.05; done; exit 7",
                            {{"queue", "wide"}, {"idempotent", false}});
  ASSERT_TRUE(WaitUntil([&] { return RunnerPid(id) > 0 && !Read("runs").empty(); }));
  const int runner = RunnerPid(id);
  const std::string socket_path = h_.dir().Path("data/run/job:runner.sock");
  const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string hello = "{\"op\":\"hello\"}\n";
  // May fail: the daemon's reconnect can take the connection back before we send.
  (void)::send(client, hello.data(), hello.size(), MSG_NOSIGNAL);
  // The runner answers us (we took the connection), then the daemon's reconnect takes it
  // back: our connection ends (EOF, or a reset if our hello was never read). A daemon that
  // judged the runner dead would not reconnect, and this would time out.
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(client, buffer, sizeof(buffer), 0)) > 0) {
  }
  const int recv_error = errno;
  ::close(client);
  ASSERT_TRUE(n == 0 || recv_error == ECONNRESET)
      << "the daemon did not take the runner's connection back: " << ::strerror(recv_error)
      << h_.DaemonLog();
  EXPECT_EQ(State(id), "running") << Job(id).dump() << h_.DaemonLog();
  std::ofstream(h_.dir().Path("go")) << "go";
  ASSERT_TRUE(WaitForState(id, "failed")) << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Job(id)["last_exit"]["code"], 7) << Job(id).dump();
  EXPECT_EQ(Read("runs"), "run\n");
  EXPECT_FALSE(IsGoneOrZombie(runner));
  const int64_t after = Submit("echo $PPID > parent.after", {{"queue", "wide"}});
  ASSERT_TRUE(WaitForState(after, "succeeded")) << Job(after).dump() << h_.DaemonLog();
  EXPECT_EQ(ReadPid("parent.after"), runner) << "the same runner, not a second one";
}

// One runner per run directory: a second one exits at once with a clear message, and leaves
// the first one's socket (the same file) and jobs alone.
TEST_F(JobRunnerTest, ASecondRunnerOnTheSameRunDirRefusesToStart) {
  const int64_t id = Submit("sleep 30", {{"queue", "wide"}});
  ASSERT_TRUE(WaitUntil([&] { return RunnerPid(id) > 0; }));
  const int runner = RunnerPid(id);
  const std::string run_dir = h_.dir().Path("data/run");
  const std::string socket_path = run_dir + "/job:runner.sock";
  struct stat before;
  ASSERT_EQ(::stat(socket_path.c_str(), &before), 0);
  const std::string err = h_.dir().Path("second.err");
  const std::string command = std::string(REBOUND_BINARY) + " runner --run-dir " + run_dir +
                              " --socket " + socket_path + " 2>" + err;
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 4);
  EXPECT_NE(Read("second.err").find("another job runner holds " + run_dir + "/job:runner.lock"),
            std::string::npos)
      << Read("second.err");
  struct stat after;
  ASSERT_EQ(::stat(socket_path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the live runner's socket is untouched";
  EXPECT_FALSE(IsGoneOrZombie(runner));
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(id, "cancelled")) << Job(id).dump();
}

// Speaks the runner's protocol to a real `rebound runner` as the daemon that started it
// does: over a socketpair passed as `--connection-fd 3`. `runner_send_buffer` > 0 shrinks the
// runner's socket send buffer (SO_SNDBUF), so that a daemon that reads nothing backs it up.
class RunnerClient {
 public:
  explicit RunnerClient(const std::string& dir, int runner_send_buffer = 0)
      : run_dir_(dir + "/run") {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return;
    }
    if (runner_send_buffer > 0) {
      ::setsockopt(pair[1], SOL_SOCKET, SO_SNDBUF, &runner_send_buffer, sizeof(runner_send_buffer));
    }
    const std::vector<std::string> args = {REBOUND_BINARY, "runner", "--run-dir", run_dir_,
                                           "--socket", run_dir_ + "/job:runner.sock",
                                           "--connection-fd", "3"};
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, pair[1], 3);  // dup2 clears CLOEXEC
    ::posix_spawn(&runner_, argv[0], &actions, nullptr, argv.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::close(pair[1]);
    fd_ = pair[0];
  }
  ~RunnerClient() {
    Close();
    ::kill(runner_, SIGKILL);
    ::waitpid(runner_, nullptr, 0);
  }
  bool IsConnected() const { return fd_ >= 0; }
  void Send(const supervise::RunnerRequest& request) {
    const std::string line = supervise::EncodeRequest(request);
    ASSERT_EQ(::send(fd_, line.data(), line.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(line.size()));
  }
  // The next event whose op is `op` (others skipped); nullopt at the end of the stream.
  std::optional<supervise::RunnerEvent> Next(size_t variant_index) {
    while (true) {
      while (auto line = buffer_.NextLine()) {
        auto event = supervise::DecodeEvent(*line);
        if (event.ok() && event->index() == variant_index) {
          return *event;
        }
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.Append(std::string_view(chunk, static_cast<size_t>(n)));
    }
  }
  // The first message of a daemon; `forget`: it says it sends `forget` (keep exits in memory).
  supervise::RunnerRunning Hello(bool forget, bool child_table = true) {
    Send(supervise::RunnerHello{.forget = forget, .child_table = child_table});
    auto running = Next(2);
    EXPECT_TRUE(running.has_value());
    return running ? std::get<supervise::RunnerRunning>(*running) : supervise::RunnerRunning{};
  }
  void StartTrue(const std::string& name) {
    Send(supervise::RunnerStart{.name = name,
                                .command = {"/bin/true"},
                                .log_path = run_dir_ + "/../" + name + ".log"});
  }
  // The `exited` it answers with.
  supervise::RunnerExited RunTrue(const std::string& name) {
    StartTrue(name);
    auto exited = Next(1);
    EXPECT_TRUE(exited.has_value());
    return exited ? std::get<supervise::RunnerExited>(*exited) : supervise::RunnerExited{};
  }
  // The `exited` lines waiting in the socket, read without taking them (MSG_PEEK).
  std::set<std::string> PeekExited() {
    std::string bytes(1 << 20, '\0');
    const ssize_t n = ::recv(fd_, bytes.data(), bytes.size(), MSG_PEEK | MSG_DONTWAIT);
    bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return ExitedIn(bytes);
  }
  // Every `exited` line still to be read, up to the end of the stream.
  std::set<std::string> ReadExitedToEnd() {
    std::string bytes;
    char chunk[4096];
    for (ssize_t n; (n = ::recv(fd_, chunk, sizeof(chunk), 0)) > 0;) {
      bytes.append(chunk, static_cast<size_t>(n));
    }
    return ExitedIn(bytes);
  }
  pid_t pid() const { return runner_; }
  // The next event, whatever it is.
  std::optional<supervise::RunnerEvent> NextAny() {
    while (true) {
      if (auto line = buffer_.NextLine()) {
        auto event = supervise::DecodeEvent(*line);
        if (event.ok()) {
          return *event;
        }
        continue;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        return std::nullopt;
      }
      buffer_.Append(std::string_view(chunk, static_cast<size_t>(n)));
    }
  }
  void KillRunner() {
    ::kill(runner_, SIGKILL);
    ::waitpid(runner_, nullptr, 0);
  }
  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  // The runner exits once no daemon is connected, no job runs and its records are on disk.
  bool WaitForRunnerExit() {
    return WaitUntil([&] { return ::waitpid(runner_, nullptr, WNOHANG) == runner_; }, 10s);
  }
  std::string ExitRecord(const std::string& name) const { return run_dir_ + "/" + name + ".exit"; }

 private:
  static std::set<std::string> ExitedIn(const std::string& bytes) {
    supervise::LineBuffer lines;
    lines.Append(bytes);
    std::set<std::string> names;
    while (auto line = lines.NextLine()) {
      auto event = supervise::DecodeEvent(*line);
      if (event.ok() && std::holds_alternative<supervise::RunnerExited>(*event)) {
        names.insert(std::get<supervise::RunnerExited>(*event).record.name);
      }
    }
    return names;
  }

  std::string run_dir_;
  pid_t runner_ = -1;
  int fd_ = -1;
  supervise::LineBuffer buffer_;
};

// While a daemon listens, an exit it was told of has no file: the daemon's commit is the
// durable point. `forget` (the outcome is stored) drops it; a connection that ends first
// has it written to NAME.exit, for the next daemon.
TEST(JobRunnerRecordsTest, AnExitIsKeptInMemoryUntilForgetAndWrittenIfTheDaemonGoesFirst) {
  TempDir dir;
  RunnerClient client(dir.path());
  ASSERT_TRUE(client.IsConnected());
  EXPECT_TRUE(client.Hello(/*forget=*/true).forget);  // this runner understands forget
  // `kept`: no file of the job in the run dir (its child record was a slot of the table).
  EXPECT_TRUE(client.RunTrue("job:1").kept);
  EXPECT_TRUE(client.RunTrue("job:2").kept);
  EXPECT_FALSE(DefaultFileSystem().Exists(client.ExitRecord("job:1")));
  EXPECT_FALSE(DefaultFileSystem().Exists(client.ExitRecord("job:2")));
  client.Send(supervise::RunnerForget{.name = "job:1"});
  client.Close();  // the daemon is gone before it stored job:2's outcome
  ASSERT_TRUE(client.WaitForRunnerExit());
  EXPECT_FALSE(DefaultFileSystem().Exists(client.ExitRecord("job:1")));
  auto record = supervise::ReadExitRecord(DefaultFileSystem(), client.ExitRecord("job:2"));
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  EXPECT_EQ(record->exit_code, 0);
}

// A daemon whose hello does not offer `forget` (one from before it existed) never sends it:
// the runner writes each exit to disk before telling it, as it did then.
TEST(JobRunnerRecordsTest, AnOlderDaemonIsToldOfEachExitOnlyOnceItIsOnDisk) {
  TempDir dir;
  RunnerClient client(dir.path());
  ASSERT_TRUE(client.IsConnected());
  client.Hello(/*forget=*/false, /*child_table=*/false);
  EXPECT_FALSE(client.RunTrue("job:1").kept);
  EXPECT_TRUE(supervise::ReadExitRecord(DefaultFileSystem(), client.ExitRecord("job:1")).ok());
  // Nor does such a daemon read the child table: the child record went to NAME.child.
  EXPECT_TRUE(supervise::ReadChildRecord(DefaultFileSystem(), dir.Path("run/job:1.child")).ok());
  EXPECT_TRUE(supervise::ParseChildTable(DefaultFileSystem()
                                             .ReadFile(supervise::ChildTablePath(dir.Path("run")))
                                             .value_or(""))
                  .empty());
}

// An exit the runner keeps in memory must be wholly in the socket, which the daemon reads even
// after the runner's death. With the daemon reading nothing, the socket fills and sends back
// up in the runner: exits from then on are written to disk first. Killed with -9 then, the
// runner loses no exit: each is in the socket or in NAME.exit.
TEST(JobRunnerRecordsTest, WhileSendsAreBackedUpExitsAreWrittenFirstAndAKillLosesNone) {
  TempDir dir;
  RunnerClient client(dir.path(), /*runner_send_buffer=*/4096);
  ASSERT_TRUE(client.IsConnected());
  client.Hello(/*forget=*/true);
  constexpr int kJobs = 60;
  for (int i = 1; i <= kJobs; ++i) {
    client.StartTrue("job:" + std::to_string(i));
  }
  auto accounted = [&] {
    const std::set<std::string> in_socket = client.PeekExited();
    int missing = 0;
    for (int i = 1; i <= kJobs; ++i) {
      const std::string name = "job:" + std::to_string(i);
      missing += !in_socket.contains(name) && !DefaultFileSystem().Exists(client.ExitRecord(name));
    }
    return missing;
  };
  EXPECT_TRUE(WaitUntil([&] { return accounted() == 0; }, 20s))
      << accounted() << " exits are neither in the socket nor on disk";
  const std::set<std::string> in_socket = client.PeekExited();
  EXPECT_LT(in_socket.size(), static_cast<size_t>(kJobs)) << "the socket never filled up";
  client.KillRunner();
  const std::set<std::string> read = client.ReadExitedToEnd();
  for (int i = 1; i <= kJobs; ++i) {
    const std::string name = "job:" + std::to_string(i);
    EXPECT_TRUE(read.contains(name) || DefaultFileSystem().Exists(client.ExitRecord(name))) << name;
  }
}

// Out of file descriptors, a start is refused (the daemon retries an idempotent job), never
// reported as a command that cannot run (126, not retried).
TEST(JobRunnerRecordsTest, AStartWithNoDescriptorLeftIsRefusedNotFailed) {
  TempDir dir;
  RunnerClient client(dir.path());
  ASSERT_TRUE(client.IsConnected());
  client.Hello(/*forget=*/true);
  const auto open_fds = DefaultFileSystem().ListDir("/proc/" + std::to_string(client.pid()) + "/fd");
  ASSERT_TRUE(open_fds.ok());
  // Room for one job's pipe and pidfd, not for a second job's pipe.
  const rlim_t room = open_fds->size() + 3;
  const rlimit limit{.rlim_cur = room, .rlim_max = room};
  ASSERT_EQ(::prlimit(client.pid(), RLIMIT_NOFILE, &limit, nullptr), 0);
  for (const char* name : {"job:1", "job:2", "job:3"}) {
    client.Send(supervise::RunnerStart{
        .name = name, .command = {"sleep", "2"}, .log_path = dir.Path(std::string(name) + ".log")});
  }
  int started = 0;
  int refused = 0;
  for (int answers = 0; answers < 3;) {
    auto event = client.NextAny();
    ASSERT_TRUE(event.has_value());
    if (std::holds_alternative<supervise::RunnerStarted>(*event)) {
      ++started;
      ++answers;
    } else if (const auto* no = std::get_if<supervise::RunnerRefused>(&*event)) {
      EXPECT_NE(no->message.find("Too many open files"), std::string::npos) << no->message;
      ++refused;
      ++answers;
    } else if (const auto* exited = std::get_if<supervise::RunnerExited>(&*event)) {
      ADD_FAILURE() << "a start failed as an exit: " << DescribeExit(exited->record);
      ++answers;
    }
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(refused, 2);
  client.KillRunner();
}

TEST(JobRunnerConfigTest, PerJobRunsEachAttemptUnderItsOwnShim) {
  DaemonHarness h;
  h.Start(std::string("[jobs]\nrunner = \"per-job\"\n\n") + kQueueAndService);
  auto token = DefaultFileSystem().ReadFile(h.dir().Path("data/token"));
  httplib::Client client("127.0.0.1", h.port());
  json body = {{"command", {"sh", "-c", "echo $PPID > parent"}}, {"cwd", h.dir().Path("")}};
  auto response = client.Post("/v1/jobs", {{"Authorization", "Bearer " + token.value_or("")}},
                              body.dump(), "application/json");
  ASSERT_TRUE(response && response->status == 201);
  ASSERT_TRUE(WaitUntil(
      [&] { return !DefaultFileSystem().ReadFile(h.dir().Path("parent")).value_or("").empty(); }));
  const int parent = std::stoi(*DefaultFileSystem().ReadFile(h.dir().Path("parent")));
  const std::string cmdline = CommandLine(parent);
  // The shim may have exited already; if its /proc entry is still there, it is a shim.
  EXPECT_TRUE(cmdline.empty() || cmdline.find("shim --name job:1") != std::string::npos) << cmdline;
  EXPECT_FALSE(DefaultFileSystem().Exists(h.dir().Path("data/run/job:runner.sock")));
}

}  // namespace
}  // namespace rebound::testing
