// The JobService over a real on-disk store and the real ShimLauncher's records: what a
// starting daemon does with the records earlier daemons left in the run directory.

#include "jobs/job_service.h"

#include <gtest/gtest.h>

#include <mutex>

#include "base/manual_clock.h"
#include "supervise/exit_record.h"
#include "testing/fault_file_system.h"
#include "testing/manual_scheduler.h"
#include "testing/temp_dir.h"

namespace rebound::jobs {
namespace {

using namespace std::chrono_literals;

// No shim of these tests is alive: nothing is ever watched.
class NoFdWatcher final : public FdWatcher {
 public:
  Status WatchFd(int, std::function<void()>) override { return OkStatus(); }
  Status WatchFdWritable(int, std::function<void()>) override { return OkStatus(); }
  void UnwatchFd(int) override {}
};

class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::Open(dir_.Path("data"));
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobStore>(store_->database(), store_->writer(), nullptr, clock_);
    ASSERT_TRUE(DefaultFileSystem().CreateDirs(run_dir_).ok());
  }

  // A job an earlier daemon left in `state`, its shim gone after recording `exit_code`.
  int64_t LeftWithRecords(JobState state, int exit_code) {
    auto submitted = jobs_->Submit({.command = {"true"}});
    EXPECT_TRUE(submitted.ok());
    JobRecord job = submitted->job;
    job.state = state;
    job.attempt = 1;
    EXPECT_TRUE(jobs_->Save(job).get().ok());
    const std::string name = ShimName(job.id);
    const int shim_pid = 4000000 + static_cast<int>(job.id);  // above any pid_max: never live
    EXPECT_TRUE(supervise::WriteChildRecord(DefaultFileSystem(),
                                            supervise::ChildRecordPath(run_dir_, name),
                                            {.name = name, .shim_pid = shim_pid, .child_pid = 1})
                    .ok());
    EXPECT_TRUE(
        supervise::WriteExitRecord(DefaultFileSystem(), supervise::ExitRecordPath(run_dir_, name),
                                   {.name = name, .shim_pid = shim_pid, .exit_code = exit_code})
            .ok());
    return job.id;
  }

  std::unique_ptr<JobService> Service() {
    return std::make_unique<JobService>(
        JobServiceOptions{.queues = {},
                          .rebound_binary = "/bin/false",
                          .run_dir = run_dir_,
                          .log_dir = dir_.Path("logs"),
                          .retention = Duration(0)},
        *store_, watcher_, scheduler_,
        [this](std::function<void()> work) {
          std::lock_guard lock(mutex_);
          posted_.push_back(std::move(work));
        },
        fs_, clock_, random_);
  }

  // Runs what the service posted to its loop until `done` holds (commits land on another
  // thread, so this waits for them, bounded).
  void RunPostedUntil(const std::function<bool()>& done) {
    for (int round = 0; round < 2000 && !done(); ++round) {
      std::vector<std::function<void()>> work;
      {
        std::lock_guard lock(mutex_);
        work.swap(posted_);
      }
      for (auto& task : work) {
        task();
      }
      std::this_thread::sleep_for(1ms);
    }
  }

  bool Exists(const std::string& name, const char* kind) {
    return DefaultFileSystem().Exists(run_dir_ + "/" + name + kind);
  }

  testing::TempDir dir_;
  const std::string run_dir_ = dir_.Path("data/run");
  ManualClock clock_;
  testing::ManualScheduler scheduler_{clock_};
  NoFdWatcher watcher_;
  testing::FaultFileSystem fs_{DefaultFileSystem()};
  Random random_{7};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobStore> jobs_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
};

TEST_F(JobServiceTest, AnExitRecordStaysUntilTheOutcomeItHoldsIsDurable) {
  const int64_t id = LeftWithRecords(JobState::kRunning, 0);
  std::vector<JobState> stored_when_removed;
  fs_.set_on_remove([&](const std::string& path) {
    if (path == supervise::ExitRecordPath(run_dir_, ShimName(id))) {
      stored_when_removed.push_back(jobs_->Get(id)->state);
    }
  });
  auto service = Service();
  ASSERT_TRUE(service->Recover().ok());
  RunPostedUntil([&] { return !Exists(ShimName(id), ".exit"); });
  EXPECT_EQ(jobs_->Get(id)->state, JobState::kSucceeded);
  // Removed once, and only after "succeeded" was committed: a crash before that point finds
  // the record again and applies the same outcome, never running the job a second time.
  EXPECT_EQ(stored_when_removed, std::vector<JobState>{JobState::kSucceeded});
  service.reset();
}

TEST_F(JobServiceTest, RecordsOfAJobWhoseOutcomeIsStoredAreRemovedAtStart) {
  const int64_t id = LeftWithRecords(JobState::kSucceeded, 0);
  auto service = Service();
  ASSERT_TRUE(service->Recover().ok());
  EXPECT_FALSE(Exists(ShimName(id), ".exit"));
  EXPECT_FALSE(Exists(ShimName(id), ".child"));
  EXPECT_EQ(jobs_->Get(id)->state, JobState::kSucceeded);
  service.reset();
}

}  // namespace
}  // namespace rebound::jobs
