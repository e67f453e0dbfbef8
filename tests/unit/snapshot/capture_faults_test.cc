// A capture whose recovery.json cannot be made durable (fsync error, full disk, torn write,
// failed rename) fails without committing, and leaves the previous document and history
// intact: nothing is acknowledged that is not on disk.

#include <gtest/gtest.h>

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

INSTANTIATE_TEST_SUITE_P(Faults, CaptureFaultsTest,
                         ::testing::Values("fsync", "disk_full", "torn_write", "rename"));

}  // namespace
}  // namespace rebound::snapshot
