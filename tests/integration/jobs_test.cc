// Durable jobs in a real daemon: real processes, HTTP on an ephemeral port. Retries with
// backoff, exhaustion, timeout, cancel, idempotent resubmit, priorities, concurrency limits,
// bad input, re-adoption after kill -9, and the CLI: each under the default job launcher
// (the shared runner) and under a shim per attempt (`[jobs] runner = "per-job"`), since a
// user may choose either. What only a shim per attempt does is tested under it alone
// (ShimPerJobTest); what only the runner does, in jobs_runner_test.cc.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "daemon_harness.h"

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kQueues =
    "[queues.solo]\nconcurrency = 1\n\n[queues.pair]\nconcurrency = 2\n\n"
    "[services.idle]\ncommand = [\"sleep\", \"1000\"]\n";

// The [jobs] table of each launcher: "default" writes none.
std::string RunnerTable(const std::string& runner) {
  return runner == "default" ? "" : "[jobs]\nrunner = \"" + runner + "\"\n\n";
}

class JobsFixture : public ::testing::Test {
 protected:

  std::pair<int, json> Send(const std::string& method, const std::string& path,
                            const json& body = nullptr) {
    return method == "POST" ? h_.PostJson(path, body.is_null() ? "" : body.dump())
                            : h_.GetJson(path);
  }
  int64_t Submit(const json& body) {
    auto [status, job] = Send("POST", "/v1/jobs", body);
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
  json Shell(const std::string& script, json extra = json::object()) {
    extra["command"] = {"sh", "-c", script};
    extra["cwd"] = h_.dir().Path("");
    return extra;
  }

  DaemonHarness h_;
};

// Every behaviour a user relies on, under the default launcher and under a shim per attempt.
class JobsTest : public JobsFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override { h_.Start(RunnerTable(GetParam()) + kQueues); }
};

INSTANTIATE_TEST_SUITE_P(Runners, JobsTest, ::testing::Values("default", "per-job"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == "default" ? std::string("DefaultRunner")
                                                          : std::string("ShimPerJob");
                         });

// What a shim per attempt does that the shared runner does not (its own records, its command
// line): named explicitly, whatever the default.
class ShimPerJobTest : public JobsFixture {
 protected:
  void SetUp() override { h_.Start(RunnerTable("per-job") + kQueues); }
};

TEST_P(JobsTest, CommandFailingTwiceIsRetriedWithBackoffThenSucceeds) {
  const int64_t id = Submit(Shell(
      "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ] || exit 75",
      {{"retry",
        {{"strategy", "fixed"},
         {"initial", "100ms"},
         {"max", "100ms"},
         {"jitter", "none"},
         {"max_attempts", 5}}}}));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitForState(id, "succeeded")) << Job(id).dump() << h_.DaemonLog();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);  // two backoffs
  EXPECT_EQ(Job(id)["attempt"], 3);
  EXPECT_EQ(Read("count"), "3\n");
}

TEST_P(JobsTest, ExhaustedAfterMaxAttempts) {
  const int64_t id = Submit(Shell("echo tried >> tries; exit 75",
                                  {{"retry", {{"max_attempts", 2}, {"initial", "10ms"}}}}));
  ASSERT_TRUE(WaitForState(id, "exhausted")) << Job(id).dump();
  EXPECT_EQ(Read("tries"), "tried\ntried\n");
  EXPECT_EQ(Job(id)["error_category"], "resource");
}

TEST_P(JobsTest, UsageErrorFailsAtOnce) {
  const int64_t id = Submit(Shell("exit 64", {{"retry", {{"max_attempts", 5}}}}));
  ASSERT_TRUE(WaitForState(id, "failed"));
  EXPECT_EQ(Job(id)["attempt"], 1);
}

TEST_P(JobsTest, TimeoutStopsTheAttemptAndIsClassifiedAsTimeout) {
  const int64_t id = Submit(
      {{"command", {"sleep", "30"}}, {"timeout", "300ms"}, {"retry", {{"max_attempts", 1}}}});
  ASSERT_TRUE(WaitForState(id, "exhausted", 5s)) << Job(id).dump();
  const json job = Job(id);
  EXPECT_EQ(job["error_category"], "timeout");
  EXPECT_EQ(job["last_exit"]["timed_out"], true);
}

TEST_P(JobsTest, CancelStopsARunningJob) {
  const int64_t id = Submit(Shell("echo $$ > pid; exec sleep 30"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("pid").empty(); }));
  ASSERT_TRUE(WaitForState(id, "running"));
  const int pid = std::stoi(Read("pid"));
  auto [status, body] = Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel");
  EXPECT_EQ(status, 202) << body.dump();
  ASSERT_TRUE(WaitForState(id, "cancelled"));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pid); }));
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 409);
}

TEST_P(JobsTest, SameIdempotencyKeyReturnsTheSameJob) {
  const json body = {{"command", {"true"}}, {"key", "order-42"}};
  auto [first_status, first] = Send("POST", "/v1/jobs", body);
  auto [again_status, again] = Send("POST", "/v1/jobs", body);
  EXPECT_EQ(first_status, 201);
  EXPECT_EQ(again_status, 200);
  EXPECT_EQ(first["id"], again["id"]);
  ASSERT_TRUE(WaitForState(first["id"], "succeeded"));
  EXPECT_EQ(Send("GET", "/v1/jobs?state=succeeded").second["jobs"].size(), 1u);
}

TEST_P(JobsTest, HigherPriorityRunsFirstWithinAQueue) {
  Submit(Shell("sleep 0.5", {{"queue", "solo"}}));
  const int64_t low = Submit(Shell("echo low >> order", {{"queue", "solo"}}));
  const int64_t high = Submit(Shell("echo high >> order", {{"queue", "solo"}, {"priority", 5}}));
  ASSERT_TRUE(WaitForState(low, "succeeded"));
  ASSERT_TRUE(WaitForState(high, "succeeded"));
  EXPECT_EQ(Read("order"), "high\nlow\n");
}

TEST_P(JobsTest, ConcurrencyLimitIsHonoured) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(
        Submit(Shell("echo + >> events; sleep 0.15; echo - >> events", {{"queue", "pair"}})));
  }
  for (int64_t id : ids) {
    ASSERT_TRUE(WaitForState(id, "succeeded")) << Job(id).dump();
  }
  int running = 0;
  int most = 0;
  std::istringstream events(Read("events"));
  for (std::string line; std::getline(events, line);) {
    running += line == "+" ? 1 : -1;
    most = std::max(most, running);
  }
  EXPECT_EQ(most, 2);
}

TEST_P(JobsTest, BadInputIsAJsonErrorNamingTheField) {
  auto [status, body] = Send("POST", "/v1/jobs", {{"command", {"true"}}, {"timeout", "later"}});
  EXPECT_EQ(status, 422);
  EXPECT_NE(body["error"]["message"].get<std::string>().find("field \"timeout\""),
            std::string::npos);
  auto [queue_status, queue_body] =
      Send("POST", "/v1/jobs", {{"command", {"true"}}, {"queue", "x"}});
  EXPECT_EQ(queue_status, 422);
  EXPECT_NE(queue_body["error"]["message"].get<std::string>().find("[queues.x]"),
            std::string::npos);
  EXPECT_EQ(Send("GET", "/v1/jobs/12345").first, 404);
  EXPECT_EQ(Send("GET", "/v1/jobs/abc").first, 422);
  EXPECT_EQ(Send("GET", "/v1/jobs?state=done").first, 422);
}

TEST_P(JobsTest, HealthShowsJobCountsAndQueues) {
  const int64_t id = Submit({{"command", {"true"}}, {"queue", "solo"}});
  ASSERT_TRUE(WaitForState(id, "succeeded"));
  const json health = *h_.Get("/health");
  EXPECT_EQ(health["components"]["jobs"]["by_state"]["succeeded"], 1);
  EXPECT_EQ(health["components"]["jobs"]["queues"]["solo"]["running"], 0);
  EXPECT_EQ(health["components"]["jobs"]["queues"]["pair"]["queued"], 0);  // configured, unused
  EXPECT_EQ(health["components"]["jobs"]["required"], false);
}

// What `promtool check metrics` says of `text`: "" when it is valid and lint-free.
std::string PromtoolFindings(const std::string& text, const std::string& file) {
  std::ofstream(file) << text;
  const std::string command = std::string(PROMTOOL_PATH) + " check metrics < " + file + " 2>&1";
  FILE* promtool = ::popen(command.c_str(), "r");
  if (promtool == nullptr) {
    return "cannot run " + command;
  }
  std::string verdict;
  char buffer[256];
  while (::fgets(buffer, sizeof(buffer), promtool) != nullptr) {
    verdict += buffer;
  }
  const int status = ::pclose(promtool);
  return status == 0 ? verdict : "exit status " + std::to_string(status) + ": " + verdict;
}

TEST_P(JobsTest, MetricsCountJobsByQueueStateAndOutcome) {
  const int64_t ok = Submit({{"command", {"true"}}, {"queue", "solo"}});
  const int64_t bad = Submit(Shell("exit 64", {{"queue", "pair"}}));
  ASSERT_TRUE(WaitForState(ok, "succeeded"));
  ASSERT_TRUE(WaitForState(bad, "failed"));
  httplib::Client client("127.0.0.1", h_.port());
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  const std::string& text = metrics->body;
  for (const char* line : {"rebound_jobs{queue=\"solo\",state=\"succeeded\"} 1\n",
                           "rebound_jobs{queue=\"pair\",state=\"failed\"} 1\n",
                           "rebound_jobs{queue=\"pair\",state=\"queued\"} 0\n",
                           "rebound_jobs_submitted_total{queue=\"solo\"} 1\n",
                           "rebound_jobs_submitted_total{queue=\"default\"} 0\n",
                           "rebound_jobs_completed_total{queue=\"solo\",outcome=\"succeeded\"} 1\n",
                           "rebound_jobs_completed_total{queue=\"pair\",outcome=\"failed\"} 1\n",
                           "rebound_jobs_completed_total{queue=\"pair\",outcome=\"succeeded\"} 0\n",
                           "rebound_job_attempts_total{queue=\"pair\"} 1\n",
                           "rebound_job_duration_seconds_count{queue=\"solo\"} 1\n",
                           "rebound_job_duration_seconds_bucket{queue=\"solo\",le=\"+Inf\"} 1\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(PromtoolFindings(text, h_.dir().Path("metrics.txt")), "");
}

TEST_P(JobsTest, LogsAreReadBack) {
  const int64_t id = Submit({{"command", {"sh", "-c", "echo hello from a job"}}});
  ASSERT_TRUE(WaitForState(id, "succeeded"));
  ASSERT_TRUE(WaitUntil([&] {
    return Send("GET", "/v1/jobs/" + std::to_string(id) + "/logs")
               .second.value("data", "")
               .find("hello from a job\n") != std::string::npos;
  }));
}

TEST_P(JobsTest, RunningJobIsReadoptedAfterTheDaemonIsKilled) {
  const int64_t id = Submit(Shell("echo started >> runs; sleep 1"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty(); }));  // launched, not only stored
  h_.Kill();
  h_.Start();
  ASSERT_TRUE(WaitForState(id, "succeeded", 10s)) << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Job(id)["attempt"], 1);
  EXPECT_EQ(Read("runs"), "started\n");  // kept running; never started again
}

// The previous daemon died between starting a shim and the shim's child record: the job
// runs, but no record says so. The new daemon finds the shim by its command line.
TEST_F(ShimPerJobTest, ShimWithoutAChildRecordYetIsAdoptedNotStartedAgain) {
  const int64_t id = Submit(Shell("echo run >> runs; sleep 30"));
  const std::string child = "data/run/job:" + std::to_string(id) + ".child";
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty() && !Read(child).empty(); }));
  h_.Kill();
  std::filesystem::remove(h_.dir().Path(child));
  std::filesystem::create_directory(h_.dir().Path(child));  // unreadable: as if not yet written
  h_.Start();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(Read("runs"), "run\n") << h_.DaemonLog();
  EXPECT_EQ(State(id), "running");
  EXPECT_EQ(Job(id)["attempt"], 1);
  std::filesystem::remove(h_.dir().Path(child));
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(id, "cancelled"));
}

TEST_P(JobsTest, ExitRecordedWhileTheDaemonWasDownIsAppliedAndTheRecordsThenRemoved) {
  const int64_t id = Submit(Shell("echo ran >> runs; sleep 0.3; exit 64"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty(); }));  // launched, not only stored
  const std::string exit_record = "data/run/job:" + std::to_string(id) + ".exit";
  h_.Kill();
  ASSERT_TRUE(WaitUntil([&] { return !Read(exit_record).empty(); }));  // the shim recorded it
  h_.Start();
  ASSERT_TRUE(WaitForState(id, "failed")) << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Job(id)["last_exit"]["code"], 64);
  EXPECT_EQ(Read("runs"), "ran\n");
  EXPECT_TRUE(WaitUntil([&] { return !DefaultFileSystem().Exists(h_.dir().Path(exit_record)); }));
}

// A job's exit record is not fsynced (docs/jobs.md, "Crashes and restarts"): the outcome's
// commit is the durable point. The daemon starts job shims with `--exit-record atomic`.
TEST_F(ShimPerJobTest, JobShimsWriteTheirExitRecordAtomicallyWithoutFsync) {
  const int64_t id = Submit(Shell("sleep 30"));
  const std::string child = "data/run/job:" + std::to_string(id) + ".child";
  ASSERT_TRUE(WaitUntil([&] { return !Read(child).empty(); })) << h_.DaemonLog();
  auto record = supervise::ReadChildRecord(DefaultFileSystem(), h_.dir().Path(child));
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  auto cmdline =
      DefaultFileSystem().ReadFile("/proc/" + std::to_string(record->shim_pid) + "/cmdline");
  ASSERT_TRUE(cmdline.ok());
  using namespace std::string_literals;
  EXPECT_NE(cmdline->find("\0--exit-record\0atomic\0"s), std::string::npos);
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/cancel").first, 202);
  EXPECT_TRUE(WaitForState(id, "cancelled"));
}

// The job's shim, or under the shared runner the runner itself (the job's parent), killed with
// the daemon: nobody recorded the job's end.
TEST_P(JobsTest, NonIdempotentJobWhoseShimDiedWithTheDaemonIsInterruptedUntilRetried) {
  const int64_t id = Submit(
      Shell("echo $PPID > parent; echo $$ > pid; echo run >> runs; exec sleep 30",
            {{"idempotent", false}}));
  ASSERT_TRUE(WaitForState(id, "running"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty(); }));
  h_.Kill();
  // The job's shim first, then its process: a shim that outlived its child by a moment could
  // record the SIGKILL (its record is not flushed, so that takes microseconds), and that
  // outcome would be known. Killed first, it records nothing: the outcome is unknown.
  ::kill(std::stoi(Read("parent")), SIGKILL);
  ::kill(-std::stoi(Read("pid")), SIGKILL);
  h_.KillServices();  // the idle service too
  h_.Start();
  ASSERT_TRUE(WaitForState(id, "interrupted")) << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Read("runs"), "run\n");
  EXPECT_EQ(Send("POST", "/v1/jobs/" + std::to_string(id) + "/retry").first, 202);
  ASSERT_TRUE(WaitUntil([&] { return Read("runs") == "run\nrun\n"; }));
  EXPECT_EQ(State(id), "running");
}

TEST_P(JobsTest, CliSubmitsListsAndShows) {
  const std::string out = h_.dir().Path("cli.out");
  const std::string url = "http://127.0.0.1:" + std::to_string(h_.port());
  const std::string token = Read("data/token");
  pid_t pid = SpawnProcess(
      {REBOUND_BINARY, "jobs", "submit", "--url", url, "--token", token, "--key", "cli-1",
       "--max-attempts", "2", "--retry-exit-code", "3", "--", "sh", "-c", "exit 0"},
      out);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << Read("cli.out");
  EXPECT_NE(Read("cli.out").find("submitted"), std::string::npos) << Read("cli.out");
  auto jobs = Send("GET", "/v1/jobs").second["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["key"], "cli-1");
  EXPECT_EQ(jobs[0]["max_attempts"], 2);
  EXPECT_EQ(jobs[0]["retry_exit_codes"], json::array({3}));
  pid = SpawnProcess({REBOUND_BINARY, "jobs", "show", "--url", url, "999"}, out);
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

// A graceful stop (SIGTERM, as `make demo`'s Ctrl-C) leaves running jobs running: the next
// daemon re-adopts them and nothing runs twice (docs/jobs.md, "Crashes and restarts").
TEST_P(JobsTest, GracefulStopLeavesARunningJobToTheNextDaemon) {
  // Waits for `go`, or ends once the temp dir is gone: a test killed midway leaks no job.
  const int64_t id =
      Submit(Shell("echo started >> runs; while [ ! -e go ] && [ -e runs ]; do sleep 0.05; done"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty(); }));
  ASSERT_TRUE(WaitForState(id, "running"));
  const int status = h_.Terminate();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << h_.DaemonLog();
  h_.Start();
  EXPECT_EQ(State(id), "running") << Job(id).dump() << h_.DaemonLog();
  std::ofstream(h_.dir().Path("go")) << "go";
  ASSERT_TRUE(WaitForState(id, "succeeded")) << Job(id).dump() << h_.DaemonLog();
  EXPECT_EQ(Job(id)["attempt"], 1);
  EXPECT_EQ(Read("runs"), "started\n");
}

// `rebound jobs list`, `cancel`, `retry` and `logs` as a user types them.
TEST_P(JobsTest, CliListsCancelsRetriesAndPrintsLogs) {
  const std::string url = "http://127.0.0.1:" + std::to_string(h_.port());
  const std::string token = Read("data/token");
  const int64_t id = Submit(Shell("echo attempt >> runs; echo out-$REBOUND_JOB_ATTEMPT; sleep 30"));
  ASSERT_TRUE(WaitUntil([&] { return !Read("runs").empty(); }));
  ASSERT_TRUE(WaitForState(id, "running"));
  auto cli = [&](std::vector<std::string> args, const std::string& out) {
    args.insert(args.begin(), {REBOUND_BINARY, "jobs"});
    args.insert(args.begin() + 3, {"--url", url, "--token", token});
    int status = 0;
    ::waitpid(SpawnProcess(args, h_.dir().Path(out)), &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(cli({"list", "--state", "running"}, "list.out"), 0) << Read("list.out");
  EXPECT_NE(Read("list.out").find(std::to_string(id) + " "), std::string::npos) << Read("list.out");
  EXPECT_EQ(cli({"cancel", std::to_string(id)}, "cancel.out"), 0) << Read("cancel.out");
  ASSERT_TRUE(WaitForState(id, "cancelled")) << Job(id).dump();
  EXPECT_EQ(cli({"cancel", std::to_string(id)}, "again.out"), 1) << Read("again.out");  // 409
  EXPECT_EQ(cli({"retry", std::to_string(id)}, "retry.out"), 0) << Read("retry.out");
  ASSERT_TRUE(WaitUntil([&] { return Read("runs") == "attempt\nattempt\n"; })) << Job(id).dump();
  ASSERT_TRUE(WaitUntil([&] {
    return cli({"logs", std::to_string(id)}, "logs.out") == 0 &&
           Read("logs.out").find("out-1") != std::string::npos;  // attempts start over
  })) << Read("logs.out");
  EXPECT_EQ(cli({"cancel", std::to_string(id)}, "cancel2.out"), 0) << Read("cancel2.out");
  EXPECT_TRUE(WaitForState(id, "cancelled"));
}

TEST_P(JobsTest, CliLogsFollowPrintsOutputUntilTheJobEnds) {
  const int64_t id = Submit({{"command", {"sh", "-c", "echo first; sleep 0.4; echo second"}}});
  ASSERT_TRUE(WaitUntil([&] { return State(id) == "running"; }));
  const std::string url = "http://127.0.0.1:" + std::to_string(h_.port());
  const pid_t pid =
      SpawnProcess({REBOUND_BINARY, "jobs", "logs", "--url", url, "-f", std::to_string(id)},
                   h_.dir().Path("logs.out"));
  int status = 0;
  ASSERT_TRUE(WaitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 10s));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string out = Read("logs.out");
  EXPECT_NE(out.find("first\nsecond\n"), std::string::npos) << out;
  EXPECT_EQ(State(id), "succeeded");
}

// The launcher changed across a restart while a job runs: an upgrade to a release whose default
// is the shared runner (from a shim per attempt), or a person switching `[jobs] runner`. The
// job started under the old launcher is re-adopted from it and followed to its end, neither
// killed nor run again; the next job runs under the new one.
class LauncherSwitchTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(LauncherSwitchTest, RunningJobIsAdoptedFromTheLauncherThatStartedIt) {
  const auto& [before, after] = GetParam();
  DaemonHarness h;
  h.Start(RunnerTable(before) + kQueues);
  auto submit = [&](const std::string& script, const json& extra = json::object()) {
    json body = extra;
    body["command"] = {"sh", "-c", script};
    body["cwd"] = h.dir().Path("");
    auto [status, job] = h.PostJson("/v1/jobs", body.dump());
    EXPECT_EQ(status, 201) << job.dump();
    return job.value("id", int64_t{-1});
  };
  auto read = [&](const std::string& name) {
    return DefaultFileSystem().ReadFile(h.dir().Path(name)).value_or("");
  };
  auto state = [&](int64_t id) {
    return h.GetJson("/v1/jobs/" + std::to_string(id)).second.value("state", "");
  };
  // Each waits for `go`, or ends once the temp dir is gone: a test killed midway leaks no job.
  const int64_t id = submit(
      "echo run >> runs; while [ ! -e go ] && [ -e runs ]; do sleep 0.05; done; exit 3",
      {{"idempotent", false}});
  const int64_t graceful =
      submit("echo run >> runs.g; while [ ! -e go ] && [ -e runs.g ]; do sleep 0.05; done");
  const int64_t cancelled = submit("echo $$ > pid.c; exec sleep 30");
  ASSERT_TRUE(WaitUntil([&] {
    return !read("runs").empty() && !read("runs.g").empty() && !read("pid.c").empty();
  }));
  h.Kill();
  h.WriteConfig(RunnerTable(after) + kQueues);
  h.Start();
  const int status = h.Terminate();  // and a graceful stop and start on top
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << h.DaemonLog();
  h.Start();
  EXPECT_EQ(state(id), "running") << h.DaemonLog();
  EXPECT_EQ(state(graceful), "running") << h.DaemonLog();
  // Signals reach the job through the launcher that runs it.
  EXPECT_EQ(h.PostJson("/v1/jobs/" + std::to_string(cancelled) + "/cancel", "").first, 202);
  ASSERT_TRUE(WaitUntil([&] { return state(cancelled) == "cancelled"; })) << h.DaemonLog();
  EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(std::stoi(read("pid.c"))); }));
  std::ofstream(h.dir().Path("go")) << "go";
  ASSERT_TRUE(WaitUntil([&] { return state(id) == "failed"; }))
      << h.GetJson("/v1/jobs/" + std::to_string(id)).second.dump() << h.DaemonLog();
  EXPECT_EQ(h.GetJson("/v1/jobs/" + std::to_string(id)).second["last_exit"]["code"], 3);
  ASSERT_TRUE(WaitUntil([&] { return state(graceful) == "succeeded"; })) << h.DaemonLog();
  EXPECT_EQ(read("runs"), "run\n");
  EXPECT_EQ(read("runs.g"), "run\n");
  const int64_t next = submit("echo $PPID > parent.next");
  ASSERT_TRUE(WaitUntil([&] { return state(next) == "succeeded"; })) << h.DaemonLog();
  // The next job runs under the new launcher: its parent is a runner, or a shim (which may
  // have exited already, its /proc entry gone).
  const std::string parent = std::to_string(std::stoi(read("parent.next")));
  std::string cmdline = DefaultFileSystem().ReadFile("/proc/" + parent + "/cmdline").value_or("");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  if (after == "per-job") {
    EXPECT_TRUE(cmdline.empty() || cmdline.find(" shim --name job:") != std::string::npos)
        << cmdline;
  } else {
    EXPECT_NE(cmdline.find(" runner --run-dir "), std::string::npos) << cmdline;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Upgrades, LauncherSwitchTest,
    ::testing::Values(std::pair<std::string, std::string>{"per-job", "default"},
                      std::pair<std::string, std::string>{"shared", "per-job"}),
    [](const auto& info) {
      return info.param.first == "per-job" ? std::string("FromShimPerJobToDefaultRunner")
                                           : std::string("FromSharedRunnerToShimPerJob");
    });

// `[jobs] runner` is read at start: a reload that changes it says so and changes nothing.
TEST(JobsReloadTest, AReloadChangingTheRunnerWarnsAndKeepsTheLauncherInUse) {
  DaemonHarness h;
  h.Start(kQueues);
  h.WriteConfig(RunnerTable("per-job") + kQueues);
  ::kill(h.daemon_pid(), SIGHUP);
  ASSERT_TRUE(WaitUntil([&] {
    return h.DaemonLog().find("[jobs] runner changed in " + h.dir().Path("rebound.toml") +
                              ": it takes effect at the next start of rebound; new job "
                              "attempts go on under the shared job runner") != std::string::npos;
  })) << h.DaemonLog();
  json body = {{"command", {"sh", "-c", "echo $PPID > parent"}}, {"cwd", h.dir().Path("")}};
  ASSERT_EQ(h.PostJson("/v1/jobs", body.dump()).first, 201);
  std::string parent;
  ASSERT_TRUE(WaitUntil([&] {
    parent = DefaultFileSystem().ReadFile(h.dir().Path("parent")).value_or("");
    return !parent.empty();
  }));
  std::string cmdline = DefaultFileSystem()
                            .ReadFile("/proc/" + std::to_string(std::stoi(parent)) + "/cmdline")
                            .value_or("");
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  EXPECT_NE(cmdline.find(" runner --run-dir "), std::string::npos) << cmdline;
}

// Gone, or a zombie nobody has reaped yet: it runs no more.
bool HasEnded(int pid) {
  const std::string stat =
      DefaultFileSystem().ReadFile("/proc/" + std::to_string(pid) + "/stat").value_or("");
  const size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && stat.compare(paren, 3, ") Z") == 0);
}

// A test's teardown ends the job runner its daemons started and the runner's jobs, found by
// command line and parent even when no record names them: a runner left behind with a job
// that never ends would run on CI forever. (The same finds a shim with no NAME.child yet.)
TEST(DaemonHarnessTest, KillServicesEndsRunnersShimsAndWhatTheyRunWithoutTheirRecords) {
  DaemonHarness h;
  h.Start(kQueues);
  json body = {{"command", {"sh", "-c", "echo $PPID > parent; echo $$ > pid; exec sleep 1000"}},
               {"cwd", h.dir().Path("")}};
  ASSERT_EQ(h.PostJson("/v1/jobs", body.dump()).first, 201);
  auto read = [&](const std::string& name) {
    return DefaultFileSystem().ReadFile(h.dir().Path(name)).value_or("");
  };
  ASSERT_TRUE(WaitUntil([&] { return !read("parent").empty() && !read("pid").empty(); }));
  const int runner = std::stoi(read("parent"));
  const int job = std::stoi(read("pid"));
  const int service = h.WaitForPid("idle");
  ASSERT_GT(service, 0);
  auto shim = supervise::ReadChildRecord(DefaultFileSystem(), h.dir().Path("data/run/idle.child"));
  ASSERT_TRUE(shim.ok());
  h.Kill();
  std::filesystem::remove(h.dir().Path("data/run/job:1.child"));  // if the runner wrote one
  ASSERT_TRUE(std::filesystem::remove(h.dir().Path("data/run/idle.child")));
  h.KillServices();
  EXPECT_TRUE(WaitUntil([&] { return HasEnded(runner) && HasEnded(job); }));
  EXPECT_TRUE(WaitUntil([&] { return HasEnded(shim->shim_pid) && HasEnded(service); }));
}

TEST(JobsRetentionTest, EndedJobsAndTheirLogsGoAfterTheRetention) {
  DaemonHarness h;
  h.Start("[jobs]\nretention = \"1s\"\n\n[services.idle]\ncommand = [\"sleep\", \"1000\"]\n");
  httplib::Client client("127.0.0.1", h.port());
  auto token = DefaultFileSystem().ReadFile(h.dir().Path("data/token"));
  auto submitted = client.Post("/v1/jobs", {{"Authorization", "Bearer " + token.value_or("")}},
                               R"({"command": ["echo", "done"]})", "application/json");
  ASSERT_TRUE(submitted && submitted->status == 201);
  const int64_t id = json::parse(submitted->body)["id"];
  const std::string path = "/v1/jobs/" + std::to_string(id);
  ASSERT_TRUE(WaitUntil([&] { return h.Get(path).value_or(json())["state"] == "succeeded"; }));
  // It printed, so it has a log (a silent success under the runner would have none).
  const std::string log = h.dir().Path("data/logs/job:" + std::to_string(id) + ".log");
  EXPECT_TRUE(DefaultFileSystem().Exists(log));
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto found = client.Get(path);
        return found && found->status == 404;
      },
      5s))
      << h.DaemonLog();
  EXPECT_FALSE(DefaultFileSystem().Exists(log));
}

}  // namespace
}  // namespace rebound::testing
