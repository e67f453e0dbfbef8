// JobLauncher: an attempt is adopted by the launcher whose live process its NAME.child names
// (a shim of that job, or the runner of that run directory), whatever launcher is configured;
// its signals and records go there until the outcome is stored; new attempts always go to the
// configured one. FakeLaunchers stand in for both, and /proc is a directory of the test.

#include "jobs/job_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "base/manual_clock.h"
#include "base/atomic_file.h"
#include "supervise/child_table.h"
#include "supervise/exit_record.h"
#include "testing/fake_launcher.h"
#include "testing/manual_scheduler.h"
#include "testing/temp_dir.h"

namespace rebound::jobs {
namespace {

using supervise::AdoptOutcome;

// The real file system, with /proc/... read from ROOT/proc/... instead.
class ProcInDir final : public FileSystem {
 public:
  explicit ProcInDir(std::string root) : root_(std::move(root)) {}
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        int mode) override {
    return base_.NewWritableFile(Map(path), mode);
  }
  Result<std::string> ReadFile(const std::string& path) override {
    return base_.ReadFile(Map(path));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(Map(from), Map(to));
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(Map(dir)); }
  Status RemoveFile(const std::string& path) override { return base_.RemoveFile(Map(path)); }
  Status CreateDirs(const std::string& path) override { return base_.CreateDirs(Map(path)); }
  bool Exists(const std::string& path) override { return base_.Exists(Map(path)); }
  Result<int> FileMode(const std::string& path) override { return base_.FileMode(Map(path)); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_.ListDir(Map(dir));
  }

 private:
  std::string Map(const std::string& path) const {
    return path == "/proc" || path.starts_with("/proc/") ? root_ + path : path;
  }
  FileSystem& base_ = DefaultFileSystem();
  std::string root_;
};

class JobLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(DefaultFileSystem().CreateDirs(run_dir_).ok()); }

  // NAME.child naming `pid`, whose command line is `args` ({} : no such process).
  void Recorded(const std::string& name, int pid, const std::vector<std::string>& args) {
    ASSERT_TRUE(supervise::WriteChildRecord(fs_, supervise::ChildRecordPath(run_dir_, name),
                                            {.name = name, .shim_pid = pid, .child_pid = pid + 1})
                    .ok());
    Process(pid, args);
  }
  // /proc/PID/cmdline reads `args` ({}: no such process).
  void Process(int pid, const std::vector<std::string>& args) {
    if (!args.empty()) {
      std::string cmdline;
      for (const std::string& arg : args) {
        cmdline += arg + '\0';
      }
      const std::string proc = "/proc/" + std::to_string(pid);
      ASSERT_TRUE(fs_.CreateDirs(proc).ok());
      auto file = fs_.NewWritableFile(proc + "/cmdline", 0644);
      ASSERT_TRUE(file.ok() && (*file)->Append(cmdline).ok() && (*file)->Close().ok());
    }
  }
  std::vector<std::string> ShimOf(const std::string& name) const {
    return {"rebound", "shim", "--name", name, "--run-dir", run_dir_, "--", "sh"};
  }
  std::vector<std::string> RunnerOf(const std::string& run_dir) const {
    return {"rebound", "runner", "--run-dir", run_dir, "--socket", run_dir + "/job:runner.sock"};
  }
  // Both fakes would adopt `name` as running, each with a child pid of its own.
  void BothWouldAdopt(const std::string& name) {
    shims_.SetAdoption(name, {.outcome = AdoptOutcome::kRunning, .process = {.child_pid = 11}});
    runner_.SetAdoption(name, {.outcome = AdoptOutcome::kRunning, .process = {.child_pid = 22}});
  }
  static supervise::ServiceSpec Spec(const std::string& name) {
    supervise::ServiceSpec spec;
    spec.name = name;
    spec.command = {"true"};
    return spec;
  }
  std::optional<int> AdoptedChild(JobLauncher& launcher, const std::string& name) {
    auto adoption = launcher.Adopt(Spec(name), [](const supervise::ExitInfo&) {});
    EXPECT_TRUE(adoption.ok());
    return adoption.ok() ? adoption->process.child_pid : std::nullopt;
  }

  testing::TempDir dir_;
  std::string run_dir_ = dir_.Path("run");
  ProcInDir fs_{dir_.path()};
  ManualClock clock_;
  testing::ManualScheduler scheduler_{clock_};
  testing::FakeLauncher shims_{scheduler_, clock_};
  testing::FakeLauncher runner_{scheduler_, clock_};
};

TEST_F(JobLauncherTest, AJobUnderALiveShimIsAdoptedByTheShimsThoughTheRunnerIsConfigured) {
  JobLauncher launcher(runner_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  Recorded("job:1", 500, ShimOf("job:1"));
  BothWouldAdopt("job:1");
  EXPECT_EQ(AdoptedChild(launcher, "job:1"), 11);
  EXPECT_EQ(launcher.adopted_from_other(), 1u);
  ASSERT_TRUE(launcher.Signal("job:1", SIGTERM).ok());
  EXPECT_EQ(shims_.signals().size(), 1u);
  EXPECT_TRUE(runner_.signals().empty());
  // Its outcome stored, its records are the shims'; the next attempt is the runner's.
  launcher.DiscardRecords("job:1");
  EXPECT_EQ(shims_.discards(), std::vector<std::string>{"job:1"});
  EXPECT_TRUE(runner_.discards().empty());
  ASSERT_TRUE(launcher.Launch(Spec("job:1"), [](const supervise::ExitInfo&) {}).ok());
  EXPECT_EQ(runner_.launches("job:1"), 1);
  EXPECT_EQ(shims_.launches("job:1"), 0);
  ASSERT_TRUE(launcher.Kill("job:1").ok());
  EXPECT_EQ(launcher.adopted_from_other(), 0u);
}

TEST_F(JobLauncherTest, AJobUnderTheLiveRunnerIsAdoptedByTheRunnerThoughShimsAreConfigured) {
  JobLauncher launcher(shims_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  Recorded("job:2", 600, RunnerOf(run_dir_));
  BothWouldAdopt("job:2");
  EXPECT_EQ(AdoptedChild(launcher, "job:2"), 22);
  EXPECT_EQ(launcher.ChildPid("job:2"), 22);
  ASSERT_TRUE(launcher.Signal("job:2", SIGTERM).ok());
  EXPECT_EQ(runner_.signals().size(), 1u);
  EXPECT_TRUE(shims_.signals().empty());
}

// A dead process, or another run directory's runner, runs nothing of ours: the configured
// launcher judges the attempt from its records, as it always did.
TEST_F(JobLauncherTest, ARecordNamingNoLiveShimOrRunnerOfOursIsLeftToTheConfiguredLauncher) {
  JobLauncher shared(runner_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  JobLauncher per_job(shims_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  Recorded("job:3", 700, {});  // gone
  Recorded("job:4", 710, RunnerOf(dir_.Path("elsewhere")));
  Recorded("job:5", 720, ShimOf("job:6"));  // another job's shim (a reused pid)
  for (const std::string name : {"job:3", "job:4", "job:5"}) {
    BothWouldAdopt(name);
    EXPECT_EQ(AdoptedChild(shared, name), 22) << name;
    EXPECT_EQ(AdoptedChild(per_job, name), 11) << name;
  }
  EXPECT_EQ(shared.adopted_from_other(), 0u);
  EXPECT_EQ(per_job.adopted_from_other(), 0u);
}

// No NAME.child yet: a shim started just before the last daemon died. The shim launcher finds
// it by its command line (here: the fake says running); when it finds none, the runner judges.
TEST_F(JobLauncherTest, WithoutAChildRecordAStartingShimIsAdoptedElseTheRunnerJudges) {
  JobLauncher launcher(runner_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  BothWouldAdopt("job:7");
  EXPECT_EQ(AdoptedChild(launcher, "job:7"), 11);
  runner_.SetAdoption("job:8", {.outcome = AdoptOutcome::kExitedMeanwhile,
                                .exit = {.description = "its job runner is gone"}});
  auto adoption = launcher.Adopt(Spec("job:8"), [](const supervise::ExitInfo&) {});
  ASSERT_TRUE(adoption.ok());
  EXPECT_EQ(adoption->outcome, AdoptOutcome::kExitedMeanwhile);
  EXPECT_EQ(adoption->exit.description, "its job runner is gone");
}

// A runner may keep its child records elsewhere than NAME.child (a table of its own): with a
// shim per attempt configured and no NAME.child, the runner launcher still decides when a
// runner of this run directory lives (it asks the runner what runs) or NAME.exit is there.
TEST_F(JobLauncherTest, WithoutAChildRecordALiveRunnerOrAnExitRecordIsTheRunnersToJudge) {
  BothWouldAdopt("job:9");
  shims_.SetAdoption("job:9", {});  // no starting shim
  {
    JobLauncher per_job(shims_, shims_, runner_, {.run_dir = run_dir_}, fs_);
    auto adoption = per_job.Adopt(Spec("job:9"), [](const supervise::ExitInfo&) {});
    ASSERT_TRUE(adoption.ok());
    EXPECT_EQ(adoption->outcome, AdoptOutcome::kNothingFound);  // as a shim per attempt always did
    ASSERT_TRUE(supervise::WriteExitRecord(fs_, supervise::ExitRecordPath(run_dir_, "job:9"),
                                           {.name = "job:9", .shim_pid = 900, .exit_code = 0})
                    .ok());
    EXPECT_EQ(AdoptedChild(per_job, "job:9"), 22);
    EXPECT_EQ(per_job.adopted_from_other(), 1u);
    ASSERT_TRUE(fs_.RemoveFile(supervise::ExitRecordPath(run_dir_, "job:9")).ok());
  }
  Process(910, RunnerOf(run_dir_));
  JobLauncher per_job(shims_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  EXPECT_EQ(AdoptedChild(per_job, "job:9"), 22);
  ASSERT_TRUE(per_job.Signal("job:9", SIGTERM).ok());
  EXPECT_EQ(runner_.signals().size(), 1u);
}

// A dead runner's record in its child table (no NAME.child): with a shim per attempt
// configured, the runner launcher judges it (it kills the job that runner orphaned). A live
// shim's NAME.child wins over such a stale slot, even one that looks newer.
TEST_F(JobLauncherTest, ADeadRunnersSlotIsTheRunnersToJudgeUnlessALiveShimRecordedTheJob) {
  auto slot = [&](const std::string& name, int runner_pid, int64_t started_ms) {
    return supervise::EncodeChildSlot({.name = name,
                                       .shim_pid = runner_pid,
                                       .child_pid = runner_pid + 1,
                                       .started_ms = started_ms})
        .value();
  };
  ASSERT_TRUE(WriteFileAtomically(fs_, supervise::ChildTablePath(run_dir_),
                                  slot("job:10", 1000, 5000) + slot("job:11", 1010, 9000), 0644,
                                  FileDurability::kAtomicOnly)
                  .ok());
  JobLauncher per_job(shims_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  runner_.SetAdoption("job:10", {.outcome = AdoptOutcome::kExitedMeanwhile,
                                 .exit = {.description = "its job runner is gone"}});
  auto adoption = per_job.Adopt(Spec("job:10"), [](const supervise::ExitInfo&) {});
  ASSERT_TRUE(adoption.ok());
  EXPECT_EQ(adoption->outcome, AdoptOutcome::kExitedMeanwhile);
  EXPECT_EQ(adoption->exit.description, "its job runner is gone");

  ASSERT_TRUE(supervise::WriteChildRecord(fs_, supervise::ChildRecordPath(run_dir_, "job:11"),
                                          {.name = "job:11",
                                           .shim_pid = 1100,
                                           .child_pid = 1101,
                                           .started_ms = 1000})
                  .ok());
  Process(1100, ShimOf("job:11"));
  BothWouldAdopt("job:11");
  JobLauncher shared(runner_, shims_, runner_, {.run_dir = run_dir_}, fs_);
  EXPECT_EQ(AdoptedChild(shared, "job:11"), 11);
}

}  // namespace
}  // namespace rebound::jobs
