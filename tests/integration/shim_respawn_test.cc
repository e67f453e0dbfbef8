// Integration tests of a shim restarting its service itself (`--respawn`, the daemon's
// allowance): the real binary, real child processes, a temp dir.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "shim_harness.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "supervise/shim.h"

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
  launcher.WatchRespawns(kName, [&](const Respawn& respawn) { respawns.push_back(respawn); });
  launcher.SetRespawnAllowance(kName, 1);  // may arrive before the shim reads its signalfd
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
  launcher.WatchRespawns(kName, [](const Respawn&) {});
  launcher.SetRespawnAllowance(kName, 1);
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

}  // namespace
}  // namespace rebound::supervise
