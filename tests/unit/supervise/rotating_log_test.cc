#include "supervise/rotating_log.h"

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "testing/fault_file_system.h"
#include "testing/temp_dir.h"

namespace rebound::supervise {
namespace {

class RotatingLogTest : public ::testing::Test {
 protected:
  RotatingLogOptions Options(uint64_t max_bytes, int keep) const {
    return {.path = path_, .max_bytes = max_bytes, .keep = keep};
  }
  std::string Read(const std::string& path) { return fs_.ReadFile(path).value_or("<absent>"); }
  std::string Rotated(int index) const { return path_ + "." + std::to_string(index); }
  void Put(const std::string& path, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomically(fs_, path, data).ok());
  }

  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
  testing::FaultFileSystem faulty_{fs_};
  const std::string path_ = dir_.Path("api.log");
};

TEST_F(RotatingLogTest, OpenCreatesAnEmptyFileThatWritesAppendTo) {
  RotatingLog log(fs_, Options(100, 2));
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(Read(path_), "");
  ASSERT_TRUE(log.Write("hello ").ok());
  ASSERT_TRUE(log.Write("world\n").ok());
  EXPECT_EQ(Read(path_), "hello world\n");
  EXPECT_EQ(log.stats().bytes_written, 12u);
  EXPECT_EQ(log.current_bytes(), 12u);
}

TEST_F(RotatingLogTest, OpenKeepsThePreviousRunsOutputAsFirstRotatedFile) {
  Put(path_, "previous run\n");
  Put(Rotated(1), "older run\n");
  RotatingLog log(fs_, Options(100, 3));
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(Read(path_), "");
  EXPECT_EQ(Read(Rotated(1)), "previous run\n");
  EXPECT_EQ(Read(Rotated(2)), "older run\n");
}

TEST_F(RotatingLogTest, RotatesBeforeExceedingMaxAndKeepsAtMostKeepFiles) {
  RotatingLog log(fs_, Options(10, 2));
  ASSERT_TRUE(log.Open().ok());
  for (const char* line : {"line-1\n", "line-2\n", "line-3\n", "line-4\n"}) {
    ASSERT_TRUE(log.Write(line).ok());
  }
  EXPECT_EQ(Read(path_), "line-4\n");
  EXPECT_EQ(Read(Rotated(1)), "line-3\n");
  EXPECT_EQ(Read(Rotated(2)), "line-2\n");
  EXPECT_FALSE(fs_.Exists(Rotated(3)));
  EXPECT_EQ(log.stats().rotations, 3u);
}

TEST_F(RotatingLogTest, FillsAFileExactlyToMaxBeforeRotating) {
  RotatingLog log(fs_, Options(10, 2));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("12345").ok());
  ASSERT_TRUE(log.Write("67890").ok());
  EXPECT_EQ(Read(path_), "1234567890");
  EXPECT_EQ(log.stats().rotations, 0u);
}

TEST_F(RotatingLogTest, SplitsAChunkLargerThanMaxAcrossFiles) {
  RotatingLog log(fs_, Options(10, 5));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("abc").ok());
  ASSERT_TRUE(log.Write("0123456789ABCDEFGHIJxyz").ok());
  EXPECT_EQ(Read(Rotated(3)), "abc");
  EXPECT_EQ(Read(Rotated(2)), "0123456789");
  EXPECT_EQ(Read(Rotated(1)), "ABCDEFGHIJ");
  EXPECT_EQ(Read(path_), "xyz");
}

TEST_F(RotatingLogTest, KeepZeroRestartsTheFileWithoutRotatedCopies) {
  Put(path_, "previous\n");
  RotatingLog log(fs_, Options(8, 0));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("first\n").ok());
  ASSERT_TRUE(log.Write("second\n").ok());
  EXPECT_EQ(Read(path_), "second\n");
  EXPECT_EQ(*fs_.ListDir(dir_.path()), std::vector<std::string>{"api.log"});
}

TEST_F(RotatingLogTest, OpenRemovesRotatedFilesBeyondKeepAndNothingElse) {
  for (const char* name :
       {"api.log.2", "api.log.3", "api.log.17", "api.log.01", "api.log.x", "other.log.9"}) {
    Put(dir_.Path(name), "x");
  }
  RotatingLog log(fs_, Options(100, 2));
  ASSERT_TRUE(log.Open().ok());
  EXPECT_EQ(
      *fs_.ListDir(dir_.path()),
      (std::vector<std::string>{"api.log", "api.log.01", "api.log.2", "api.log.x", "other.log.9"}));
}

TEST_F(RotatingLogTest, NotesAreWholePrefixedLines) {
  RotatingLog log(fs_, Options(1000, 2));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.WriteNote("started").ok());
  ASSERT_TRUE(log.Write("partial").ok());
  ASSERT_TRUE(log.WriteNote("exited").ok());
  EXPECT_EQ(Read(path_), "[rebound-shim] started\npartial\n[rebound-shim] exited\n");
}

TEST_F(RotatingLogTest, FullDiskDropsAndCountsOutputThenRecovers) {
  RotatingLog log(faulty_, Options(1000, 2));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("kept\n").ok());
  faulty_.set_space_left(0);
  Status full = log.Write("lost line\n");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().category(), ErrorCategory::kResource);
  EXPECT_NE(full.error().message().find("dropped 10 bytes"), std::string::npos);
  faulty_.set_space_left(-1);
  ASSERT_TRUE(log.Write("back\n").ok());
  EXPECT_EQ(Read(path_), "kept\nback\n");
  EXPECT_EQ(log.stats().bytes_dropped, 10u);
  EXPECT_EQ(log.stats().bytes_written, 10u);
  EXPECT_EQ(log.stats().write_errors, 1u);
}

TEST_F(RotatingLogTest, TornWriteStillCountsTowardsTheSizeBound) {
  RotatingLog log(faulty_, Options(10, 2));
  ASSERT_TRUE(log.Open().ok());
  faulty_.set_tear_next_write(true);
  EXPECT_FALSE(log.Write("12345678").ok());
  EXPECT_EQ(log.current_bytes(), 8u);
  ASSERT_TRUE(log.Write("abcd").ok());
  EXPECT_EQ(Read(Rotated(1)), "1234");  // the torn half, rotated before it could overflow
  EXPECT_EQ(Read(path_), "abcd");
}

TEST_F(RotatingLogTest, FailedRotationDropsTheChunkKeepsTheFileAndRetries) {
  RotatingLog log(faulty_, Options(10, 2));
  ASSERT_TRUE(log.Open().ok());
  ASSERT_TRUE(log.Write("12345678").ok());
  faulty_.set_fail_rename(true);
  EXPECT_FALSE(log.Write("abcd").ok());
  EXPECT_EQ(Read(path_), "12345678");
  EXPECT_EQ(log.stats().bytes_dropped, 4u);
  faulty_.set_fail_rename(false);
  ASSERT_TRUE(log.Write("efgh").ok());
  EXPECT_EQ(Read(Rotated(1)), "12345678");
  EXPECT_EQ(Read(path_), "efgh");
}

TEST_F(RotatingLogTest, UnopenableFileFailsOpenAndDropsWritesUntilItCanBeCreated) {
  const std::string missing_dir = dir_.Path("not-yet");
  RotatingLog log(fs_, {.path = missing_dir + "/api.log", .max_bytes = 100, .keep = 2});
  Status opened = log.Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().category(), ErrorCategory::kNotFound);
  EXPECT_FALSE(log.Write("lost\n").ok());
  EXPECT_EQ(log.stats().bytes_dropped, 5u);
  ASSERT_TRUE(fs_.CreateDirs(missing_dir).ok());
  ASSERT_TRUE(log.Write("kept\n").ok());
  EXPECT_EQ(Read(missing_dir + "/api.log"), "kept\n");
}

}  // namespace
}  // namespace rebound::supervise
