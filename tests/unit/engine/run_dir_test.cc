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

}  // namespace
}  // namespace rebound::engine
