#include "base/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/fault_file_system.h"

namespace rebound {
namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rebound-atomic-XXXXXX";
    dir_ = ::mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::vector<std::string> Entries() const { return *DefaultFileSystem().ListDir(dir_); }

  std::string dir_;
  FileSystem& fs_ = DefaultFileSystem();
};

TEST_F(AtomicFileTest, WritesAndReplacesWholeFile) {
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("a.json"), "first version, longer").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("a.json"), "second").ok());
  EXPECT_EQ(*fs_.ReadFile(Path("a.json")), "second");
  EXPECT_EQ(Entries(), std::vector<std::string>{"a.json"});  // no temp files left behind
}

TEST_F(AtomicFileTest, AppliesTheRequestedMode) {
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("token"), "secret", 0600).ok());
  struct stat info {};
  ASSERT_EQ(::stat(Path("token").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(*fs_.FileMode(Path("token")), 0600);
}

TEST_F(AtomicFileTest, FileModeOfAMissingFileIsNotFound) {
  auto mode = fs_.FileMode(Path("missing"));
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.error().category(), ErrorCategory::kNotFound);
  EXPECT_NE(mode.error().message().find("stat " + Path("missing")), std::string::npos);
}

TEST_F(AtomicFileTest, DurableWritesSyncTheFileAndTheDirectoryAtomicOnlyNeither) {
  testing::FaultFileSystem counted(fs_);
  ASSERT_TRUE(WriteChecksummedFile(counted, Path("durable"), "x").ok());
  EXPECT_EQ(counted.sync_calls(), 2);  // fdatasync of the temp file, fsync of the directory
  ASSERT_TRUE(
      WriteChecksummedFile(counted, Path("child"), "first", 0644, FileDurability::kAtomicOnly)
          .ok());
  ASSERT_TRUE(
      WriteChecksummedFile(counted, Path("child"), "second", 0644, FileDurability::kAtomicOnly)
          .ok());
  EXPECT_EQ(counted.sync_calls(), 2);
  EXPECT_EQ(*ReadChecksummedFile(fs_, Path("child")), "second");  // still replaced whole
  EXPECT_EQ(Entries(), (std::vector<std::string>{"child", "durable"}));
}

TEST_F(AtomicFileTest, FailedSyncKeepsTheOldFileAndRemovesTheTemp) {
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("a.json"), "good").ok());
  testing::FaultFileSystem faulty(fs_);
  faulty.set_fail_sync(true);
  Status status = WriteFileAtomically(faulty, Path("a.json"), "new");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("atomic write of " + Path("a.json")), std::string::npos);
  EXPECT_EQ(*fs_.ReadFile(Path("a.json")), "good");
  EXPECT_EQ(Entries(), std::vector<std::string>{"a.json"});
}

TEST_F(AtomicFileTest, FullDiskIsAResourceErrorAndLosesNothing) {
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("a.json"), "good").ok());
  testing::FaultFileSystem faulty(fs_);
  faulty.set_space_left(3);
  Status status = WriteFileAtomically(faulty, Path("a.json"), "a longer document");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kResource);
  EXPECT_EQ(*fs_.ReadFile(Path("a.json")), "good");
  EXPECT_EQ(Entries(), std::vector<std::string>{"a.json"});
}

TEST_F(AtomicFileTest, TornWriteNeverReplacesTheTarget) {
  ASSERT_TRUE(WriteFileAtomically(fs_, Path("a.json"), "good").ok());
  testing::FaultFileSystem faulty(fs_);
  faulty.set_tear_next_write(true);
  EXPECT_FALSE(WriteFileAtomically(faulty, Path("a.json"), "0123456789").ok());
  EXPECT_EQ(*fs_.ReadFile(Path("a.json")), "good");
}

TEST_F(AtomicFileTest, MissingDirectoryIsNotFound) {
  Status status = WriteFileAtomically(fs_, Path("no/such/dir/a.json"), "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kNotFound);
}

TEST_F(AtomicFileTest, ChecksummedRoundTrip) {
  const std::string payload = "{\"services\": [\"db\", \"api\"]}\n";
  ASSERT_TRUE(WriteChecksummedFile(fs_, Path("state.json"), payload).ok());
  auto read = ReadChecksummedFile(fs_, Path("state.json"));
  ASSERT_TRUE(read.ok()) << read.error().ToString();
  EXPECT_EQ(*read, payload);
  ASSERT_TRUE(WriteChecksummedFile(fs_, Path("empty"), "").ok());
  EXPECT_EQ(*ReadChecksummedFile(fs_, Path("empty")), "");
}

void Overwrite(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

TEST_F(AtomicFileTest, EveryKindOfDamageIsReportedAsCorruption) {
  ASSERT_TRUE(WriteChecksummedFile(fs_, Path("s"), "payload bytes").ok());
  const std::string good = *fs_.ReadFile(Path("s"));
  std::string flipped = good;
  flipped.back() ^= 0x01;
  std::string bad_hash = good;
  bad_hash[14] = bad_hash[14] == '0' ? '1' : '0';
  const std::vector<std::pair<std::string, std::string>> cases = {
      {flipped, "checksum mismatch"},
      {bad_hash, "checksum mismatch"},
      {good.substr(0, good.size() - 3), "length mismatch"},
      {good + "extra", "length mismatch"},
      {"payload bytes", "missing checksum header"},
      {"", "missing checksum header"},
      {"rebound-xxh3 abc 5\nhello", "malformed checksum header"},
      {"rebound-xxh3 0123456789abcdef x5\nhello", "malformed length"},
  };
  for (const auto& [contents, expected] : cases) {
    Overwrite(Path("s"), contents);
    auto read = ReadChecksummedFile(fs_, Path("s"));
    ASSERT_FALSE(read.ok()) << contents;
    EXPECT_EQ(read.error().category(), ErrorCategory::kCorruption);
    EXPECT_NE(read.error().message().find(expected), std::string::npos) << read.error().message();
    EXPECT_NE(read.error().message().find(Path("s")), std::string::npos);
  }
}

TEST_F(AtomicFileTest, ReadingAMissingFileIsNotFound) {
  auto read = ReadChecksummedFile(fs_, Path("absent"));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().category(), ErrorCategory::kNotFound);
}

TEST(ParentDirTest, HandlesRelativeAbsoluteAndRoot) {
  EXPECT_EQ(ParentDir("a/b/c.json"), "a/b");
  EXPECT_EQ(ParentDir("c.json"), ".");
  EXPECT_EQ(ParentDir("/c"), "/");
}

}  // namespace
}  // namespace rebound
