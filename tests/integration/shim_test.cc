// Integration tests of `rebound shim`: the real binary, real child processes, a temp dir.
// Every wait is bounded (kTimeout) and every process started is killed and reaped.

#include "supervise/shim.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/atomic_file.h"
#include "shim_harness.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "testing/fault_file_system.h"
#include "testing/temp_dir.h"

namespace rebound::supervise {
namespace {

TEST_F(ShimTest, RecordsExitCodeOutputAndTheChild) {
  const pid_t shim =
      StartShim({"sh", "-c",
                 "echo pid=$$; echo start=$(cut -d' ' -f22 /proc/$$/stat); echo out; "
                 "echo err >&2; exit 3"});
  const ChildRecord child = WaitForChildRecord();
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 3);
  EXPECT_FALSE(exit.signal.has_value());
  EXPECT_EQ(exit.name, kName);
  EXPECT_EQ(exit.shim_pid, shim);
  EXPECT_EQ(exit.child_pid, child.child_pid);
  EXPECT_LE(exit.started_ms, exit.ended_ms);
  EXPECT_EQ(child.shim_pid, shim);
  EXPECT_EQ(child.started_ms, exit.started_ms);
  const std::string log = ReadText(LogPath());
  EXPECT_NE(log.find("pid=" + std::to_string(child.child_pid) + "\n"), std::string::npos) << log;
  EXPECT_NE(log.find("start=" + std::to_string(child.child_start_time) + "\n"), std::string::npos)
      << log;
  EXPECT_NE(log.find("out\nerr\n"), std::string::npos) << log;
  EXPECT_NE(log.find("[rebound-shim] svc exited with code 3\n"), std::string::npos) << log;
}

// How services run (the daemon passes it): the record is renamed into place but not fsynced.
TEST_F(ShimTest, AtomicExitRecordIsRecordedInFull) {
  const pid_t shim = StartShim({"sh", "-c", "exit 5"}, {"--exit-record", "atomic"});
  const ChildRecord child = WaitForChildRecord();
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 5);
  EXPECT_EQ(exit.shim_pid, shim);
  EXPECT_EQ(exit.child_pid, child.child_pid);
}

// The log opens (and the previous run's rotates) after the service has started; what the
// service wrote meanwhile waited in the pipe and follows the shim's "started" line.
TEST_F(ShimTest, TheStartedLineComesBeforeTheServicesFirstOutput) {
  ASSERT_TRUE(WriteFileAtomically(fs_, LogPath(), "previous run\n").ok());
  const ExitRecord exit = FinishedRecord(StartShim({"echo", "first words"}));
  EXPECT_EQ(exit.exit_code, 0);
  const std::string log = ReadText(LogPath());
  const size_t started = log.find("[rebound-shim] started 'echo' as pid");
  ASSERT_NE(started, std::string::npos) << log;
  EXPECT_EQ(started, 0u) << log;
  EXPECT_GT(log.find("first words\n"), started) << log;
  EXPECT_EQ(ReadText(LogPath() + ".1"), "previous run\n");
}

// A daemon killed while starting a shim: the shim's parent is no longer the daemon when it
// runs, and the next daemon may already have decided that nothing started.
TEST_F(ShimTest, StartsNothingWhenItsParentIsNotTheDaemonThatStartedIt) {
  const std::string marker = dir_.Path("ran");
  const pid_t not_our_parent = ::getpid() + 1;  // never this test: it is the shim's parent
  const pid_t shim = StartShim({"touch", marker}, {"--parent-pid", std::to_string(not_our_parent)});
  const std::optional<int> status = WaitForExit(shim);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == kShimParentGoneExitCode) << *status;
  EXPECT_NE(ReadText(StderrPath()).find("starting nothing"), std::string::npos);
  EXPECT_FALSE(fs_.Exists(marker));
  EXPECT_FALSE(fs_.Exists(ExitRecordPath(RunDir(), kName)));
  EXPECT_FALSE(fs_.Exists(ChildRecordPath(RunDir(), kName)));
}

TEST_F(ShimTest, RunsWhenItsParentIsTheDaemonThatStartedIt) {
  const pid_t shim = StartShim({"true"}, {"--parent-pid", std::to_string(::getpid())});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 0);
}

TEST_F(ShimTest, RemovesAStaleExitRecordBeforeStarting) {
  ASSERT_TRUE(fs_.CreateDirs(RunDir()).ok());
  const std::string stale = ExitRecordPath(RunDir(), kName);
  ASSERT_TRUE(WriteExitRecord(fs_, stale, {.name = kName, .exit_code = 99}).ok());
  // The service exits 0 only if the stale record was gone before it started.
  const pid_t shim = StartShim({"sh", "-c", "test ! -e \"$0\"", stale});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 0);
}

TEST_F(ShimTest, RunsInCwdWithExtraEnvironmentAndNullStdin) {
  const pid_t shim =
      StartShim({"sh", "-c", "echo cwd=$(pwd) var=$REBOUND_SHIM_TEST; read line; echo read=$?"},
                {"--cwd", dir_.path(), "--env", "REBOUND_SHIM_TEST=hello"});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 0);
  const std::string log = ReadText(LogPath());
  EXPECT_NE(log.find("cwd=" + dir_.path() + " var=hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find("read=1\n"), std::string::npos) << log;  // EOF from /dev/null
}

TEST_F(ShimTest, ServiceStartsWithNoSignalBlockedOrIgnored) {
  // grep reports its own masks as exec left them (a shell would change its mask while
  // waiting); the shim itself blocks the forwarded signals and ignores SIGPIPE.
  const pid_t shim = StartShim({"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 0);
  const std::string log = ReadText(LogPath());
  EXPECT_EQ(MaskInLog(log, "SigBlk"), 0u) << log;
  // glibc's posix_spawn leaves its two internal real-time signals (32 and 33) ignored in every
  // child it starts, and sigaddset cannot name them; no standard signal may be ignored.
  EXPECT_EQ(MaskInLog(log, "SigIgn") & kStandardSignalsMask, 0u) << log;
}

TEST_F(ShimTest, ForwardsSigtermToTheChildsGroup) {
  const pid_t shim =
      StartShim({"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"});
  const ChildRecord child = WaitForChildRecord();
  ASSERT_TRUE(WaitForLog("ready\n"));
  EXPECT_EQ(::getpgid(child.child_pid), child.child_pid);  // its own process group
  EXPECT_EQ(*ProcessStartTime(child.child_pid), child.child_start_time);
  ASSERT_EQ(::kill(shim, SIGTERM), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_TRUE(LogContains("[rebound-shim] forwarded SIGTERM to process group " +
                          std::to_string(child.child_pid)));
}

TEST_F(ShimTest, RecordsSigkillOfTheChildsGroupAndExitsZero) {
  const pid_t shim = StartShim({"sh", "-c", "echo ready; while :; do sleep 0.05; done"});
  const ChildRecord child = WaitForChildRecord();
  ASSERT_TRUE(WaitForLog("ready\n"));
  ASSERT_EQ(::kill(-child.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_FALSE(exit.exit_code.has_value());
  EXPECT_FALSE(exit.core_dumped);
  EXPECT_TRUE(LogContains("[rebound-shim] svc killed by signal 9 (SIGKILL)\n"));
}

TEST_F(ShimTest, OutlivesTheProcessThatStartedIt) {
  // Orphans are reparented to this test process, so it can reap the shim at the end.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  std::vector<std::string> args = {"/bin/sh", "-c", "\"$0\" \"$@\" & exit 0"};
  for (const std::string& arg :
       ShimArgs({}, {"sh", "-c", "trap 'exit 7' TERM; while :; do echo tick; sleep 0.05; done"})) {
    args.push_back(arg);
  }
  const pid_t starter = Spawn(args);
  const std::optional<int> starter_status = WaitForExit(starter);
  ASSERT_TRUE(starter_status.has_value());
  const ChildRecord child = WaitForChildRecord();
  started_.push_back(child.shim_pid);
  ASSERT_NE(child.shim_pid, starter);
  // The service keeps producing output after its starter is gone.
  const std::string before = ReadText(LogPath());
  ASSERT_TRUE(WaitUntil([&] { return ReadText(LogPath()).size() > before.size() + 10; }, kTimeout));
  EXPECT_TRUE(ProcessExists(child.child_pid));
  ASSERT_EQ(::kill(child.shim_pid, SIGTERM), 0);
  EXPECT_EQ(FinishedRecord(child.shim_pid).exit_code, 7);
}

TEST_F(ShimTest, RotatesTheLogAndKeepsAtMostKFiles) {
  const pid_t shim =
      StartShim({"seq", "1", "3000"}, {"--log-max-bytes", "1000", "--log-keep", "3"});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 0);
  std::string all;
  for (int index = 3; index >= 1; --index) {
    const std::string path = LogPath() + "." + std::to_string(index);
    ASSERT_TRUE(fs_.Exists(path)) << path;
    const std::string text = ReadText(path);
    EXPECT_LE(text.size(), 1000u) << path;
    all += text;
  }
  EXPECT_FALSE(fs_.Exists(LogPath() + ".4"));
  EXPECT_LE(ReadText(LogPath()).size(), 1000u);
  all += ReadText(LogPath());
  // What is kept is the newest output, contiguous, ending with the last number.
  // The oldest kept file may begin inside a line (a chunk larger than the limit is split),
  // so its first line is skipped.
  std::istringstream lines(all.substr(all.find('\n') + 1));
  std::vector<int> numbers;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("[rebound-shim]")) {
      numbers.push_back(std::stoi(line));
    }
  }
  ASSERT_GT(numbers.size(), 300u);
  for (size_t i = 1; i < numbers.size(); ++i) {
    EXPECT_EQ(numbers[i], numbers[i - 1] + 1) << "at " << i;
  }
  EXPECT_EQ(numbers.back(), 3000);
}

TEST_F(ShimTest, UnwritableLogDropsOutputButTheServiceRunsAndIsRecorded) {
  const std::string not_a_dir = dir_.Path("plain-file");
  ASSERT_TRUE(WriteFileAtomically(fs_, not_a_dir, "x").ok());
  const pid_t shim = Spawn({REBOUND_BINARY, "shim", "--name", kName, "--run-dir", RunDir(), "--log",
                            not_a_dir + "/svc.log", "--", "sh", "-c", "echo out; exit 4"});
  EXPECT_EQ(FinishedRecord(shim).exit_code, 4);
  EXPECT_NE(ReadText(StderrPath()).find("output will be dropped"), std::string::npos)
      << ReadText(StderrPath());
}

TEST_F(ShimTest, CommandNotFoundIsRecordedAs127WithAnExplanation) {
  const pid_t shim = StartShim({"rebound-test-no-such-command", "arg"});
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 127);
  EXPECT_EQ(exit.child_pid, 0);
  EXPECT_FALSE(fs_.Exists(ChildRecordPath(RunDir(), kName)));
  EXPECT_TRUE(
      LogContains("[rebound-shim] cannot run 'rebound-test-no-such-command': command not found"));
}

TEST_F(ShimTest, NonExecutableCommandIsRecordedAs126) {
  const std::string script = dir_.Path("not-executable.sh");
  ASSERT_TRUE(WriteFileAtomically(fs_, script, "#!/bin/sh\nexit 0\n", 0644).ok());
  const ExitRecord exit = FinishedRecord(StartShim({script}));
  EXPECT_EQ(exit.exit_code, 126);
  EXPECT_TRUE(LogContains("cannot run '" + script + "': Permission denied"));
}

TEST_F(ShimTest, MissingWorkingDirectoryIsRecordedAs126) {
  const ExitRecord exit = FinishedRecord(StartShim({"true"}, {"--cwd", dir_.Path("absent")}));
  EXPECT_EQ(exit.exit_code, 126);
  EXPECT_TRUE(LogContains("cannot run 'true': working directory " + dir_.Path("absent")));
}

TEST_F(ShimTest, BadArgumentsExitWithCode2AndAMessage) {
  const pid_t shim = Spawn({REBOUND_BINARY, "shim", "--name", kName, "--log-keep", "many"});
  const std::optional<int> status = WaitForExit(shim);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  const std::string message = ReadText(StderrPath());
  EXPECT_NE(message.find("rebound shim: option --log-keep needs an integer"), std::string::npos)
      << message;
  EXPECT_NE(message.find("usage: rebound shim"), std::string::npos) << message;
  EXPECT_FALSE(fs_.Exists(RunDir()));
}

// A new daemon adopting a shim that finishes in the middle of the adoption still gets the
// outcome the shim recorded. The shim here ends (and is reaped) right after the launcher's
// first read of the exit record: reading the record before checking that the shim lives
// would find neither and report "gone without an exit record", which for a job that
// succeeded means running it again.
TEST_F(ShimTest, AdoptionRacingTheShimsExitKeepsTheRecordedOutcome) {
  const std::string go = dir_.Path("go");
  const pid_t shim =
      StartShim({"sh", "-c", "while [ ! -e " + go + " ]; do sleep 0.01; done; exit 7"});
  WaitForChildRecord();
  testing::FaultFileSystem fs(fs_);
  bool finished = false;
  fs.set_after_read([&](const std::string& path) {
    if (!finished && path == ExitRecordPath(RunDir(), kName)) {
      finished = true;
      std::ofstream(go) << "x";
      EXPECT_TRUE(WaitForExit(shim).has_value());  // gone and reaped, its record on disk
    }
  });
  PollingWatcher watcher;
  ShimLauncher launcher(
      {.rebound_binary = REBOUND_BINARY, .run_dir = RunDir(), .log_dir = dir_.Path("logs")},
      watcher, fs);
  std::optional<ExitInfo> exited;
  auto adoption = launcher.Adopt({.name = kName, .command = {"sh"}},
                                 [&](const ExitInfo& exit) { exited = exit; });
  ASSERT_TRUE(adoption.ok()) << adoption.error().ToString();
  ASSERT_TRUE(finished);
  if (adoption->outcome == AdoptOutcome::kRunning) {
    ASSERT_TRUE(watcher.RunUntil([&] { return exited.has_value(); }));
  } else {
    exited = adoption->exit;
  }
  EXPECT_EQ(exited->exit_code, 7) << exited->description;
}

}  // namespace
}  // namespace rebound::supervise
