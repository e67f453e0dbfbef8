// A capture whose recovery.json cannot be made durable (fsync error, full disk, torn write,
// failed rename) fails without committing, and leaves the previous document and history
// intact: nothing is acknowledged that is not on disk.

#include <gtest/gtest.h>
#include <cstdlib>
#include <filesystem>

#include "base/atomic_file.h"
#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"
#include "testing/fault_file_system.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class CaptureFaultsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::OpenInMemory(clock_));
    git_ = std::move(*GitStore::Open(dir_.Path("snapshots")));
    snapshots_ = std::make_unique<Snapshotter>(
        *git_, store_->states(), faults_, clock_,
        SnapshotterOptions{.document_path = dir_.Path("recovery.json")});
  }
  void InjectFault(const std::string& fault) {
    if (fault == "fsync") {
      faults_.set_fail_sync(true);
    } else if (fault == "disk_full") {
      faults_.set_space_left(10);
    } else if (fault == "torn_write") {
      faults_.set_tear_next_write(true);
    } else {
      faults_.set_fail_rename(true);
    }
  }

  testing::TempDir dir_;
  ManualClock clock_;
  testing::FaultFileSystem faults_{DefaultFileSystem()};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<GitStore> git_;
  std::unique_ptr<Snapshotter> snapshots_;
};

TEST_P(CaptureFaultsTest, AFailedDocumentWriteCommitsNothingAndKeepsThePreviousDocument) {
  ASSERT_TRUE(store_->states().Put("m", {{"v", 1}}, std::nullopt).get().ok());
  auto first = snapshots_->Capture({}, "offline", "first");
  ASSERT_TRUE(first.ok()) << first.error().message();
  const std::string before = *ReadChecksummedFile(DefaultFileSystem(), dir_.Path("recovery.json"));

  ASSERT_TRUE(store_->states().Put("m", {{"v", 2}}, std::nullopt).get().ok());
  InjectFault(GetParam());
  auto second = snapshots_->Capture({}, "offline", "second");
  EXPECT_FALSE(second.ok());

  EXPECT_EQ(**git_->Head(), first->commit);
  EXPECT_EQ(git_->Log()->size(), 1u);
  EXPECT_EQ(*ReadChecksummedFile(DefaultFileSystem(), dir_.Path("recovery.json")), before);
  EXPECT_TRUE(GitFsckPasses(dir_.Path("snapshots")));
}

// "fsync" is not among them: on the repository's file system recovery.json is made durable
// by the commit's one syncfs, not by its own fsync (the two tests below).
INSTANTIATE_TEST_SUITE_P(Faults, CaptureFaultsTest,
                         ::testing::Values("disk_full", "torn_write", "rename"));

TEST_F(CaptureFaultsTest, OnTheRepositorysFileSystemTheDocumentIsNotSyncedOnItsOwn) {
  ASSERT_TRUE(git_->FlushCovers(dir_.path()));
  faults_.set_fail_sync(true);  // any fsync of the document would fail the capture
  auto taken = snapshots_->Capture({}, "offline", "one flush");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_EQ(**git_->Head(), taken->commit);
  EXPECT_TRUE(ReadChecksummedFile(DefaultFileSystem(), dir_.Path("recovery.json")).ok());
}

// A repository on another file system (tmpfs) does not cover the document: it keeps its own
// fsyncs, and a failed one commits nothing.
TEST_F(CaptureFaultsTest, OnAnotherFileSystemAFailedDocumentSyncCommitsNothing) {
  std::string other = "/dev/shm/rebound-test-XXXXXX";
  if (::mkdtemp(other.data()) == nullptr) {
    GTEST_SKIP() << "no /dev/shm";
  }
  auto git = GitStore::Open(other + "/snapshots");
  ASSERT_TRUE(git.ok()) << git.error().message();
  if ((*git)->FlushCovers(dir_.path())) {
    std::filesystem::remove_all(other);
    GTEST_SKIP() << "/dev/shm is on the same file system as " << dir_.path();
  }
  Snapshotter snapshots(**git, store_->states(), faults_, clock_,
                        SnapshotterOptions{.document_path = dir_.Path("recovery.json")});
  faults_.set_fail_sync(true);
  EXPECT_FALSE(snapshots.Capture({}, "offline", "second").ok());
  EXPECT_FALSE((*(*git)->Head()).has_value());
  EXPECT_FALSE(DefaultFileSystem().Exists(dir_.Path("recovery.json")));
  std::filesystem::remove_all(other);
}

}  // namespace
}  // namespace rebound::snapshot
