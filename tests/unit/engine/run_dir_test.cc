#include "engine/run_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

int ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int>(st.st_mode & 07777);
}

TEST(RunDirTest, CreatesTheDirectoryAndItsParentsReadableByItsOwnerOnly) {
  testing::TempDir dir;
  const std::string run_dir = dir.Path("a/b/run");
  ASSERT_TRUE(PrepareRunDir(run_dir).ok());
  EXPECT_EQ(ModeOf(run_dir), 0700);
}

TEST(RunDirTest, AnExistingDirectoryOfOursIsNarrowedTo0700) {
  testing::TempDir dir;
  const std::string run_dir = dir.Path("run");
  ASSERT_EQ(::mkdir(run_dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(run_dir.c_str(), 0755), 0);  // whatever the umask
  ASSERT_TRUE(PrepareRunDir(run_dir).ok());
  EXPECT_EQ(ModeOf(run_dir), 0700);
}

TEST(RunDirTest, AFileInTheWayIsAClearError) {
  testing::TempDir dir;
  const std::string run_dir = dir.Path("run");
  std::ofstream(run_dir) << "x";
  Status prepared = PrepareRunDir(run_dir);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message().find("daemon.run_dir " + run_dir), std::string::npos)
      << prepared.error().message();
}

TEST(RunDirTest, ADirectoryOfAnotherUserIsRefused) {
  testing::TempDir dir;
  const std::string run_dir = dir.Path("run");
  ASSERT_EQ(::mkdir(run_dir.c_str(), 0777), 0);
  if (::chown(run_dir.c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a directory to another user here (not root)";
  }
  Status prepared = PrepareRunDir(run_dir);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().category(), ErrorCategory::kPermission);
  EXPECT_NE(prepared.error().message().find("belongs to uid 65534"), std::string::npos)
      << prepared.error().message();
}

TEST(RunDirTest, ServiceRecordsAreTheServicesChildRecordsOnly) {
  testing::TempDir dir;
  for (const char* name :
       {"web.child", "web.exit", "job:12.child", "db.child.tmp.7.0", "db.log", "worker.child"}) {
    std::ofstream(dir.Path(name)) << "x";
  }
  EXPECT_EQ(ServiceRecordsIn(DefaultFileSystem(), dir.path()),
            (std::vector<std::string>{"web", "worker"}));
  EXPECT_TRUE(ServiceRecordsIn(DefaultFileSystem(), dir.Path("missing")).empty());
}

TEST(RunDirTest, AMoveIsRefusedOnlyWhileServicesAreRecordedInTheOldDirectory) {
  testing::TempDir dir;
  const std::string old_dir = dir.Path("old");
  const std::string new_dir = dir.Path("new");
  ASSERT_TRUE(PrepareRunDir(old_dir).ok());
  FileSystem& fs = DefaultFileSystem();
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir).ok());  // nothing recorded
  std::ofstream(old_dir + "/job:3.child") << "x";  // a job's: jobs never move
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir).ok());
  std::ofstream(old_dir + "/api.child") << "x";
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, old_dir).ok());  // not moved
  Status moved = CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(moved.error().message(),
            "rebound.toml: daemon.run_dir is " + new_dir +
                ", but the shims of api, started by "
                "the previous daemon, keep their records in " +
                old_dir +
                ": this daemon would not find them and would start those services a second time. "
                "Put run_dir back, stop those services (rebound stop NAME), then change it");
}

}  // namespace
}  // namespace rebound::engine
