#include "testing/fault_file_system.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace rebound::testing {
namespace {

class FaultFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rebound-fault-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  FaultFileSystem fs_{DefaultFileSystem()};
};

TEST_F(FaultFileSystemTest, PassesThroughWhenNoFaultIsSet) {
  auto file = fs_.NewWritableFile(dir_ + "/f", 0644);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("hello").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*fs_.ReadFile(dir_ + "/f"), "hello");
  EXPECT_EQ(fs_.sync_calls(), 1);
}

TEST_F(FaultFileSystemTest, FullDiskWritesWhatFitsThenFailsWithEnospc) {
  fs_.set_space_left(4);
  auto file = fs_.NewWritableFile(dir_ + "/f", 0644);
  ASSERT_TRUE((*file)->Append("ab").ok());
  Status status = (*file)->Append("cdef");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kResource);
  EXPECT_NE(status.error().message().find("No space left"), std::string::npos);
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*fs_.ReadFile(dir_ + "/f"), "abcd");
}

TEST_F(FaultFileSystemTest, TornWriteHappensOnce) {
  fs_.set_tear_next_write(true);
  auto file = fs_.NewWritableFile(dir_ + "/f", 0644);
  EXPECT_FALSE((*file)->Append("12345678").ok());
  EXPECT_TRUE((*file)->Append("xy").ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*fs_.ReadFile(dir_ + "/f"), "1234xy");
}

TEST_F(FaultFileSystemTest, SyncAndRenameFailuresAreInjected) {
  fs_.set_fail_sync(true);
  auto file = fs_.NewWritableFile(dir_ + "/f", 0644);
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_FALSE(fs_.SyncDir(dir_).ok());
  fs_.set_fail_rename(true);
  EXPECT_FALSE(fs_.Rename(dir_ + "/f", dir_ + "/g").ok());
  EXPECT_TRUE(fs_.Exists(dir_ + "/f"));
  EXPECT_FALSE(fs_.Exists(dir_ + "/g"));
}

TEST_F(FaultFileSystemTest, CreateDirsFailureIsInjected) {
  fs_.set_fail_create_dirs(true);
  EXPECT_FALSE(fs_.CreateDirs(dir_ + "/a/b").ok());
  EXPECT_FALSE(fs_.Exists(dir_ + "/a"));
  fs_.set_fail_create_dirs(false);
  EXPECT_TRUE(fs_.CreateDirs(dir_ + "/a/b").ok());
  EXPECT_TRUE(fs_.Exists(dir_ + "/a/b"));
}

}  // namespace
}  // namespace rebound::testing
