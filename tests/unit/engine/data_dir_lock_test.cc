#include "engine/data_dir_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

// flock conflicts between two open files, even in one process: the second Acquire here stands
// for a second daemon.
TEST(DataDirLockTest, ASecondHolderOfTheDataDirectoryIsRefusedWithTheFirstOnesPid) {
  testing::TempDir dir;
  auto first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = DataDirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(second.error().message(), "another rebound daemon (pid " +
                                          std::to_string(::getpid()) + ") is already running on " +
                                          dir.path() + "; stop it first, or use another data_dir");
}

TEST(DataDirLockTest, ASecondDaemonOnTheSameRunDirIsRefusedWithTheFirstOnesPidAndDataDir) {
  testing::TempDir dir;
  auto first = DataDirLock::AcquireRunDir(dir.path(), "/var/lib/first");
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = DataDirLock::AcquireRunDir(dir.path(), "/var/lib/second");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(second.error().message(),
            "daemon.run_dir " + dir.path() + " is already used by another rebound daemon (pid " +
                std::to_string(::getpid()) +
                ", data_dir /var/lib/first): two daemons sharing it would adopt and signal each "
                "other's services; give each daemon a run_dir of its own");
  first->reset();  // the first daemon ends: the directory is free
  EXPECT_TRUE(DataDirLock::AcquireRunDir(dir.path(), "/var/lib/second").ok());
}

}  // namespace
}  // namespace rebound::engine
