// Integration tests of a shim restarting its service itself (`--respawn`, the daemon's
// allowance): the real binary, real child processes, a temp dir.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim_harness.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "supervise/shim.h"
#include "testing/fault_file_system.h"

namespace rebound::supervise {
namespace {

// A service that says it is ready, then runs until killed (or SIGTERM: exit 7).
const std::vector<std::string> kLooper = {
    "sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"};

class ShimRespawnTest : public ShimTest {
 protected:
  pid_t StartRespawningShim(const std::string& policy = "always") {
    return StartShim(kLooper, {"--respawn", policy, "--stop-signal", std::to_string(SIGTERM)});
  }

  // As the daemon sends it: G in si_value.
  static void Allow(pid_t shim, int generation) {
    ASSERT_EQ(::sigqueue(shim, RespawnAllowanceSignal(), sigval{.sival_int = generation}), 0);
  }

  // The child record once it names generation `generation`.
  ChildRecord WaitForGeneration(uint64_t generation) {
    const std::string path = ChildRecordPath(RunDir(), kName);
    Result<ChildRecord> record = NotFoundError("not yet");
    EXPECT_TRUE(WaitUntil(
        [&] {
          record = ReadChildRecord(fs_, path);
          return record.ok() && record->generation == generation;
        },
        kTimeout))
        << "generation " << generation << " never recorded";
    if (record.ok()) {
      child_groups_.push_back(record->child_pid);
    }
    return record.value_or(ChildRecord{});
  }

  ShimLauncherOptions LauncherOptions() const {
    return {.rebound_binary = REBOUND_BINARY,
            .run_dir = RunDir(),
            .log_dir = dir_.Path("logs"),
            .respawn = true};
  }

  std::optional<ExitInfo> exited_;
  std::vector<Respawn> respawns_;
  ExitCallback OnExit() {
    return [this](const ExitInfo& exit) { exited_ = exit; };
  }
  RespawnCallback OnRespawn() {
    return [this](const Respawn& respawn) { respawns_.push_back(respawn); };
  }
};

TEST_F(ShimRespawnTest, RestartsAKilledServiceItselfWhileAllowed) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord first = WaitForChildRecord();
  EXPECT_EQ(first.generation, 0u);
  EXPECT_FALSE(first.previous_exit.has_value());
  Allow(shim, 1);
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);
  const ChildRecord second = WaitForGeneration(1);
  EXPECT_EQ(second.shim_pid, shim);  // the same shim
  EXPECT_NE(second.child_pid, first.child_pid);
  EXPECT_TRUE(ProcessExists(second.child_pid));
  EXPECT_EQ(*ProcessStartTime(second.child_pid), second.child_start_time);
  ASSERT_TRUE(second.previous_exit.has_value());
  EXPECT_EQ(second.previous_exit->child_pid, first.child_pid);
  EXPECT_EQ(second.previous_exit->signal, SIGKILL);
  EXPECT_FALSE(second.previous_exit->exit_code.has_value());
  EXPECT_EQ(second.previous_exit->started_ms, first.started_ms);
  EXPECT_GE(second.previous_exit->ended_ms, first.started_ms);
  EXPECT_FALSE(fs_.Exists(ExitRecordPath(RunDir(), kName)));
  EXPECT_TRUE(WaitForLog("svc killed by signal 9 (SIGKILL); restarted it as pid " +
                         std::to_string(second.child_pid)));
  // The allowance (generation < 1) is spent: the next death ends the shim as before.
  ASSERT_EQ(::kill(-second.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.child_pid, second.child_pid);
}

TEST_F(ShimRespawnTest, WithoutAnAllowanceItExitsWithARecordAsBefore) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord child = WaitForChildRecord();
  ASSERT_EQ(::kill(-child.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.child_pid, child.child_pid);
}

TEST_F(ShimRespawnTest, AStopAfterASelfRestartIsNotRestarted) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord first = WaitForChildRecord();
  Allow(shim, 5);
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);
  const ChildRecord second = WaitForGeneration(1);
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string log = ReadText(LogPath());
        return log.find("ready\n", log.find("restarted it as pid")) != std::string::npos;
      },
      kTimeout));                       // the new child has set its trap
  ASSERT_EQ(::kill(shim, SIGTERM), 0);  // forwarded: the service's stop signal
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 7);
  EXPECT_EQ(exit.child_pid, second.child_pid);
}

TEST_F(ShimRespawnTest, ARevokeSentJustBeforeTheKillIsHonoured) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord child = WaitForChildRecord();
  Allow(shim, 3);
  // What the daemon does to stop it with SIGKILL: revoke, then kill, back to back.
  Allow(shim, 0);
  ASSERT_EQ(::kill(-child.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.child_pid, child.child_pid);
}

// A restart whose NAME.child cannot be written must not run: a daemon stopping the service
// would find only the dead child and wait for a record that never comes. Here NAME.child is
// replaced by a non-empty directory, so the record's rename fails.
TEST_F(ShimRespawnTest, ARestartThatCannotBeRecordedIsUndoneAndLeftToTheDaemon) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord child = WaitForChildRecord();
  const std::string record_path = ChildRecordPath(RunDir(), kName);
  ASSERT_TRUE(fs_.RemoveFile(record_path).ok());
  ASSERT_TRUE(fs_.CreateDirs(record_path + "/blocker").ok());
  Allow(shim, 3);
  ASSERT_EQ(::kill(-child.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_EQ(exit.child_pid, child.child_pid);  // the first child's exit, as without an allowance
  EXPECT_TRUE(WaitForLog("could not be recorded: ending it and leaving the restart to the daemon"));
}

TEST_F(ShimRespawnTest, OnFailureLeavesACleanExitToTheDaemon) {
  const std::string go = dir_.Path("go");
  const pid_t shim =
      StartShim({"sh", "-c", "while [ ! -e " + go + " ]; do sleep 0.01; done; exit 0"},
                {"--respawn", "on-failure"});
  WaitForChildRecord();
  Allow(shim, 5);
  std::ofstream(go) << "x";
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.exit_code, 0);
}

TEST_F(ShimRespawnTest, WithoutRespawnTheAllowanceIsIgnoredAndHarmless) {
  const pid_t shim = StartShim(kLooper);
  const ChildRecord child = WaitForChildRecord();
  Allow(shim, 5);  // blocked and read, never fatal, never forwarded
  ASSERT_TRUE(WaitForLog("ready\n"));
  ASSERT_EQ(::kill(-child.child_pid, SIGKILL), 0);
  const ExitRecord exit = FinishedRecord(shim);
  EXPECT_EQ(exit.signal, SIGKILL);
  EXPECT_FALSE(LogContains("forwarded"));
}

// The daemon's side: ShimLauncher sends the allowance through the shim's pidfd and learns of
// the restart from the rewritten NAME.child (inotify), before the shim's exit.
TEST_F(ShimRespawnTest, TheLauncherAllowsReportsAndRevokes) {
  PollingWatcher watcher;
  ShimLauncher launcher({.rebound_binary = REBOUND_BINARY,
                         .run_dir = RunDir(),
                         .log_dir = dir_.Path("logs"),
                         .respawn = true},
                        watcher, fs_);
  ASSERT_TRUE(launcher.SupportsRespawn());
  std::optional<ExitInfo> exited;
  std::vector<Respawn> respawns;
  auto launched = launcher.Launch({.name = kName, .command = kLooper},
                                  [&](const ExitInfo& exit) { exited = exit; });
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  started_.push_back(launched->shim_pid);
  ASSERT_TRUE(
      launcher.WatchRespawns(kName, [&](const Respawn& respawn) { respawns.push_back(respawn); })
          .ok());
  // May arrive before the shim reads its signalfd.
  ASSERT_TRUE(launcher.SetRespawnAllowance(kName, 1).ok());
  const ChildRecord first = WaitForChildRecord();
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);
  ASSERT_TRUE(watcher.RunUntil([&] { return !respawns.empty(); }));
  EXPECT_EQ(respawns[0].generation, 1u);
  EXPECT_NE(respawns[0].child_pid, first.child_pid);
  EXPECT_EQ(respawns[0].previous_exit.signal, SIGKILL);
  EXPECT_EQ(launcher.ChildPid(kName), respawns[0].child_pid);
  child_groups_.push_back(respawns[0].child_pid);
  ASSERT_TRUE(launcher.Kill(kName).ok());  // the allowance is spent: no restart
  ASSERT_TRUE(watcher.RunUntil([&] { return exited.has_value(); }));
  EXPECT_EQ(exited->signal, SIGKILL);
  EXPECT_EQ(respawns.size(), 1u);
}

// Between a restart and its new NAME.child, the record names the dead child. A kill in that
// moment must not take the shim down (that would orphan the new child): it waits for the
// record, then kills the child it names.
TEST_F(ShimRespawnTest, AKillBeforeTheNewRecordKillsTheNewChildOnceItIsNamed) {
  PollingWatcher watcher;
  ShimLauncher launcher({.rebound_binary = REBOUND_BINARY,
                         .run_dir = RunDir(),
                         .log_dir = dir_.Path("logs"),
                         .respawn = true},
                        watcher, fs_);
  std::optional<ExitInfo> exited;
  auto launched = launcher.Launch({.name = kName, .command = kLooper},
                                  [&](const ExitInfo& exit) { exited = exit; });
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  started_.push_back(launched->shim_pid);
  ASSERT_TRUE(launcher.WatchRespawns(kName, [](const Respawn&) {}).ok());
  ASSERT_TRUE(launcher.SetRespawnAllowance(kName, 1).ok());
  const ChildRecord first = WaitForChildRecord();
  const std::string path = ChildRecordPath(RunDir(), kName);
  const std::string stale = ReadText(path);
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);
  const ChildRecord second = WaitForGeneration(1);
  const std::string fresh = ReadText(path);
  auto put = [&](const std::string& text) {  // renamed into place, as the shim does
    std::ofstream(path + ".test") << text;
    ASSERT_EQ(::rename((path + ".test").c_str(), path.c_str()), 0);
  };
  put(stale);  // the moment before the shim's new record
  ASSERT_TRUE(launcher.Kill(kName).ok());
  EXPECT_TRUE(ProcessExists(second.child_pid));
  put(fresh);  // the shim's record lands
  ASSERT_TRUE(watcher.RunUntil([&] { return exited.has_value(); }));
  EXPECT_EQ(exited->signal, SIGKILL) << exited->description;  // recorded by the live shim
  EXPECT_TRUE(WaitUntil([&] { return !ProcessExists(second.child_pid); }, kTimeout));
}

// After a daemon restart: the test plays the daemon that died (it started the shim and granted
// it an allowance); a new ShimLauncher adopts the shim.

// A watch that cannot be set up (inotify_init1 failing with EMFILE, here CreateDirs) must not
// leave the dead daemon's allowance in force: the launcher revokes it at once, a restart the
// shim made meanwhile is reported at its exit, and a SIGKILL stop is not undone by a restart.
TEST_F(ShimRespawnTest, AnUnwatchedAdoptedShimIsRevokedAndItsRestartsReportedAtItsExit) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord first = WaitForChildRecord();
  Allow(shim, 5);
  testing::FaultFileSystem fs(fs_);
  fs.set_fail_create_dirs(true);
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs);
  auto adopted = launcher.Adopt({.name = kName, .command = kLooper}, OnExit());
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  ASSERT_EQ(adopted->outcome, AdoptOutcome::kRunning);
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);  // restarted on the old allowance
  const ChildRecord second = WaitForGeneration(1);
  EXPECT_FALSE(launcher.WatchRespawns(kName, OnRespawn()).ok());
  EXPECT_TRUE(launcher.SetRespawnAllowance(kName, 4).ok());  // lowered to a revoke
  ASSERT_TRUE(launcher.Kill(kName).ok());                    // stop_signal = SIGKILL
  ASSERT_TRUE(watcher.RunUntil([&] { return exited_.has_value(); })) << ReadText(LogPath());
  EXPECT_EQ(exited_->signal, SIGKILL) << exited_->description;
  ASSERT_EQ(respawns_.size(), 1u);
  EXPECT_EQ(respawns_[0].generation, 1u);
  EXPECT_EQ(respawns_[0].child_pid, second.child_pid);
}

// Started `--respawn always` by the daemon that died; the new config says on-failure. The
// shim's policy is not the spec's: grants are lowered to revokes, exits go to the daemon.
TEST_F(ShimRespawnTest, AnAdoptedShimWithAnotherPolicyGetsOnlyRevokes) {
  const pid_t shim = StartRespawningShim("always");
  WaitForChildRecord();
  Allow(shim, 5);
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs_);
  ServiceSpec spec{.name = kName, .command = kLooper};
  spec.restart = RestartPolicy::kOnFailure;
  auto adopted = launcher.Adopt(spec, OnExit());
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  ASSERT_EQ(adopted->outcome, AdoptOutcome::kRunning);
  ASSERT_TRUE(launcher.WatchRespawns(kName, OnRespawn()).ok());
  ASSERT_TRUE(launcher.SetRespawnAllowance(kName, 3).ok());
  ASSERT_TRUE(launcher.Kill(kName).ok());
  ASSERT_TRUE(watcher.RunUntil([&] { return exited_.has_value(); })) << ReadText(LogPath());
  EXPECT_EQ(exited_->signal, SIGKILL) << exited_->description;
  EXPECT_TRUE(respawns_.empty());
}

// `worker--` ends in "--": whole words of the command line are compared, so its --respawn is
// seen and it is granted restarts like any other.
TEST_F(ShimRespawnTest, AShimOfAServiceNamedWithTrailingDashesKeepsItsRespawn) {
  const std::string name = "worker--";
  std::vector<std::string> args = {REBOUND_BINARY, "shim", "--name", name, "--run-dir", RunDir()};
  args.insert(args.end(), {"--log", dir_.Path("worker.log"), "--respawn", "always"});
  args.insert(args.end(), {"--stop-signal", std::to_string(SIGTERM), "--"});
  args.insert(args.end(), kLooper.begin(), kLooper.end());
  Spawn(args);
  const std::string path = ChildRecordPath(RunDir(), name);
  ASSERT_TRUE(WaitUntil([&] { return fs_.Exists(path); }, kTimeout));
  auto first = ReadChildRecord(fs_, path);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  child_groups_.push_back(first->child_pid);
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs_);
  auto adopted = launcher.Adopt({.name = name, .command = kLooper}, OnExit());
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  ASSERT_EQ(adopted->outcome, AdoptOutcome::kRunning);
  ASSERT_TRUE(launcher.WatchRespawns(name, OnRespawn()).ok());
  ASSERT_TRUE(launcher.SetRespawnAllowance(name, 1).ok());
  ASSERT_EQ(::kill(-first->child_pid, SIGKILL), 0);
  ASSERT_TRUE(watcher.RunUntil([&] { return !respawns_.empty() || exited_.has_value(); }));
  ASSERT_EQ(respawns_.size(), 1u) << (exited_ ? exited_->description : "");
  EXPECT_EQ(respawns_[0].generation, 1u);
  child_groups_.push_back(respawns_[0].child_pid);
}

// The shim restarts between Adopt (which read NAME.child) and WatchRespawns: the watch was
// set up before that read, so the new record is reported, not lost until the next one.
TEST_F(ShimRespawnTest, ARestartBetweenAdoptionAndWatchIsReported) {
  const pid_t shim = StartRespawningShim();
  const ChildRecord first = WaitForChildRecord();
  Allow(shim, 5);
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs_);
  auto adopted = launcher.Adopt({.name = kName, .command = kLooper}, OnExit());
  ASSERT_TRUE(adopted.ok()) << adopted.error().ToString();
  ASSERT_EQ(adopted->process.generation, 0u);
  ASSERT_EQ(::kill(-first.child_pid, SIGKILL), 0);
  const ChildRecord second = WaitForGeneration(1);
  ASSERT_TRUE(launcher.WatchRespawns(kName, OnRespawn()).ok());
  ASSERT_TRUE(watcher.RunUntil([&] { return !respawns_.empty(); }));
  EXPECT_EQ(respawns_[0].generation, 1u);
  EXPECT_EQ(respawns_[0].child_pid, second.child_pid);
}

// A recorded start time of 0 (unreadable when the shim wrote it) proves nothing: the kill
// cannot wait for a next record that may never come, so it takes the shim down as before.
TEST_F(ShimRespawnTest, AKillThatCannotVerifyTheRecordedChildKillsTheShim) {
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs_);
  auto launched = launcher.Launch({.name = kName, .command = kLooper}, OnExit());
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  started_.push_back(launched->shim_pid);
  ASSERT_TRUE(launcher.WatchRespawns(kName, OnRespawn()).ok());
  ChildRecord child = WaitForChildRecord();
  child.child_start_time = 0;
  ASSERT_TRUE(WriteChildRecord(fs_, ChildRecordPath(RunDir(), kName), child).ok());
  ASSERT_TRUE(launcher.Kill(kName).ok());
  ASSERT_TRUE(watcher.RunUntil([&] { return exited_.has_value(); }));
  EXPECT_NE(exited_->description.find("its shim ended without recording an exit"),
            std::string::npos)
      << exited_->description;
}

// The revoke before a stop fails (EAGAIN: no queued signal fits under the shim's
// RLIMIT_SIGPENDING): the shim may still restart what is killed, so the kill ends it too.
TEST_F(ShimRespawnTest, AKillAfterAFailedRevokeTakesTheShimDownToo) {
  PollingWatcher watcher;
  ShimLauncher launcher(LauncherOptions(), watcher, fs_);
  auto launched = launcher.Launch({.name = kName, .command = kLooper}, OnExit());
  ASSERT_TRUE(launched.ok()) << launched.error().ToString();
  started_.push_back(launched->shim_pid);
  ASSERT_TRUE(launcher.WatchRespawns(kName, OnRespawn()).ok());
  ASSERT_TRUE(launcher.SetRespawnAllowance(kName, 3).ok());
  const ChildRecord child = WaitForChildRecord();
  const rlimit none = {0, 0};
  ASSERT_EQ(::prlimit(launched->shim_pid, RLIMIT_SIGPENDING, &none, nullptr), 0);
  Status revoked = launcher.SetRespawnAllowance(kName, 0);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().category(), ErrorCategory::kResource) << revoked.error().ToString();
  ASSERT_TRUE(launcher.Kill(kName).ok());
  ASSERT_TRUE(watcher.RunUntil([&] { return exited_.has_value(); })) << ReadText(LogPath());
  EXPECT_TRUE(respawns_.empty());
  // Killed with its shim's exit, not restarted (an orphan's zombie is reaped by whoever
  // inherits it, so its pid may linger).
  EXPECT_NE(exited_->description.find("killed the orphaned service"), std::string::npos)
      << exited_->description;
  const std::string stat = "/proc/" + std::to_string(child.child_pid) + "/stat";
  EXPECT_TRUE(WaitUntil(
      [&] {
        return !ProcessExists(child.child_pid) || ReadText(stat).find(") Z ") != std::string::npos;
      },
      kTimeout));
}

}  // namespace
}  // namespace rebound::supervise
