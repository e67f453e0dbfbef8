#include "engine/run_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "supervise/exit_record.h"
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
  EXPECT_EQ(ModeOf(dir.Path("a")), 0700);  // parents it creates pass its own check next time
  EXPECT_EQ(ModeOf(dir.Path("a/b")), 0700);
  EXPECT_EQ(ModeOf(run_dir), 0700);
  EXPECT_TRUE(PrepareRunDir(run_dir).ok());
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

// A refusal of PrepareRunDir: a permission error whose message says `what`, and no run
// directory created.
void ExpectRefused(const std::string& run_dir, ErrorCategory category, const std::string& what) {
  Status prepared = PrepareRunDir(run_dir);
  ASSERT_FALSE(prepared.ok()) << run_dir;
  EXPECT_EQ(prepared.error().category(), category) << prepared.error().message();
  EXPECT_NE(prepared.error().message().find(what), std::string::npos)
      << prepared.error().message();
  EXPECT_NE(prepared.error().message().find("daemon.run_dir " + run_dir), std::string::npos)
      << prepared.error().message();
}

TEST(RunDirTest, ASymbolicLinkAsTheDirectoryIsRefused) {
  testing::TempDir dir;
  ASSERT_EQ(::mkdir(dir.Path("real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir.Path("real").c_str(), dir.Path("run").c_str()), 0);
  ExpectRefused(dir.Path("run"), ErrorCategory::kValidation, " is a symbolic link");
  ExpectRefused(dir.Path("run") + "/", ErrorCategory::kValidation, " is a symbolic link");
}

TEST(RunDirTest, AnAncestorOthersCanWriteIsRefusedUnlessSticky) {
  testing::TempDir dir;
  const std::string shared = dir.Path("shared");
  ASSERT_EQ(::mkdir(shared.c_str(), 0700), 0);
  for (const mode_t mode : {0777, 0770, 0702}) {
    ASSERT_EQ(::chmod(shared.c_str(), mode), 0);
    ExpectRefused(shared + "/private/run", ErrorCategory::kPermission,
                  "its ancestor " + shared + " (mode 0" + std::to_string(mode / 64) +
                      std::to_string(mode / 8 % 8) + std::to_string(mode % 8) +
                      ") is writable by other users and not sticky");
    EXPECT_NE(::access((shared + "/private").c_str(), F_OK), 0) << "created nothing";
  }
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);  // as /tmp: only an entry's owner may replace it
  EXPECT_TRUE(PrepareRunDir(shared + "/private/run").ok());
}

TEST(RunDirTest, AnAncestorOfAnotherUserIsRefused) {
  testing::TempDir dir;
  const std::string theirs = dir.Path("theirs");
  ASSERT_EQ(::mkdir(theirs.c_str(), 0755), 0);
  if (::chown(theirs.c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a directory to another user here (not root)";
  }
  ExpectRefused(theirs + "/run", ErrorCategory::kPermission,
                "its ancestor " + theirs + " belongs to uid 65534, neither root nor");
}

TEST(RunDirTest, ALinkAmongTheAncestorsIsCheckedAndSoIsWhereItLeads) {
  testing::TempDir dir;
  const std::string shared = dir.Path("shared");
  ASSERT_EQ(::mkdir(shared.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(shared.c_str(), 0777), 0);
  ASSERT_EQ(::mkdir(dir.Path("shared/ours").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir.Path("shared/ours").c_str(), dir.Path("link").c_str()), 0);
  ExpectRefused(dir.Path("link/run"), ErrorCategory::kPermission, "its ancestor " + shared + " ");
  ASSERT_EQ(::mkdir(dir.Path("safe").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(dir.Path("safe").c_str(), dir.Path("safe-link").c_str()), 0);
  EXPECT_TRUE(PrepareRunDir(dir.Path("safe-link/run")).ok());  // as /var/run -> /run
  EXPECT_EQ(ModeOf(dir.Path("safe/run")), 0700);
  if (::lchown(dir.Path("safe-link").c_str(), 65534, 65534) != 0) {
    GTEST_SKIP() << "cannot give a link to another user here (not root)";
  }
  ExpectRefused(dir.Path("safe-link/run"), ErrorCategory::kPermission,
                "its ancestor " + dir.Path("safe-link") + " belongs to uid 65534");
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

// The real file system, with the command lines of made-up processes in /proc.
class ProcessTableFileSystem final : public FileSystem {
 public:
  void SetCommandLine(int pid, const std::vector<std::string>& args) {
    std::string cmdline;
    for (const std::string& arg : args) {
      cmdline += arg + std::string(1, '\0');
    }
    cmdlines_["/proc/" + std::to_string(pid) + "/cmdline"] = cmdline;
  }
  Result<std::string> ReadFile(const std::string& path) override {
    if (path.starts_with("/proc/")) {
      auto it = cmdlines_.find(path);
      return it != cmdlines_.end() ? Result<std::string>(it->second)
                                   : Result<std::string>(NotFoundError(path));
    }
    return base_.ReadFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        int mode) override {
    return base_.NewWritableFile(path, mode);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  Status SyncDir(const std::string& dir) override { return base_.SyncDir(dir); }
  Status RemoveFile(const std::string& path) override { return base_.RemoveFile(path); }
  Status CreateDirs(const std::string& path) override { return base_.CreateDirs(path); }
  bool Exists(const std::string& path) override { return base_.Exists(path); }
  Result<int> FileMode(const std::string& path) override { return base_.FileMode(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }

 private:
  FileSystem& base_ = DefaultFileSystem();
  std::map<std::string, std::string> cmdlines_;
};

void RecordShim(FileSystem& fs, const std::string& run_dir, const std::string& name,
                int shim_pid) {
  ASSERT_TRUE(supervise::WriteChildRecord(fs, supervise::ChildRecordPath(run_dir, name),
                                          {.name = name, .shim_pid = shim_pid,
                                           .child_pid = shim_pid + 1, .child_start_time = 7,
                                           .started_ms = 1000})
                  .ok());
}

// After a reboot, or a daemon that was killed with its shims, the old directory still holds
// records: only a record whose shim runs, for that service and that directory, keeps a
// daemon from starting the service a second time.
TEST(RunDirTest, AMoveIsRefusedOnlyWhileShimsRecordedInTheOldDirectoryRun) {
  testing::TempDir dir;
  const std::string old_dir = dir.Path("old");
  const std::string new_dir = dir.Path("new");
  ASSERT_TRUE(PrepareRunDir(old_dir).ok());
  ProcessTableFileSystem fs;
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir).ok());  // nothing recorded
  std::ofstream(old_dir + "/cache.child") << "garbage";  // unreadable: no shim to find
  RecordShim(fs, old_dir, "web", 4002);                 // its shim is gone (no /proc/4002)
  RecordShim(fs, old_dir, "db", 4003);                  // a shim of another run directory
  fs.SetCommandLine(4003, {"rebound", "shim", "--name", "db", "--run-dir", new_dir});
  RecordShim(fs, old_dir, "job:3", 4004);  // a job's: jobs never move
  fs.SetCommandLine(4004, {"rebound", "shim", "--name", "job:3", "--run-dir", old_dir});
  RecordShim(fs, old_dir, "worker", 4001);  // pid 4001 is api's shim, not worker's
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir).ok());
  RecordShim(fs, old_dir, "api", 4001);
  fs.SetCommandLine(4001, {"/usr/bin/rebound", "shim", "--name", "api", "--run-dir", old_dir,
                           "--", "sleep", "1000"});
  EXPECT_EQ(LiveShimsIn(fs, old_dir), std::vector<std::string>{"api"});
  EXPECT_TRUE(CheckRunDirMove(fs, "rebound.toml", old_dir, old_dir).ok());  // not moved
  Status moved = CheckRunDirMove(fs, "rebound.toml", old_dir, new_dir);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(moved.error().message(),
            "rebound.toml: daemon.run_dir is " + new_dir +
                ", but the shims of api, started by the previous daemon, still run and keep "
                "their records in " +
                old_dir +
                ": this daemon would not find them and would start those services a second time. "
                "Put run_dir back, start rebound, stop it gracefully (SIGTERM: its services stop "
                "with it), then change run_dir");
}

}  // namespace
}  // namespace rebound::engine
