// GitStore::Prune ([snapshots] keep): what is kept, what the git CLI then sees, and that the
// repository stays whole (git fsck) and pushable.

#include <gtest/gtest.h>

#include <filesystem>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/git_store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class GitRetentionTest : public ::testing::Test {
 protected:
  void SetUp() override { git_ = Open("repo"); }
  std::unique_ptr<GitStore> Open(const std::string& name) {
    auto opened = GitStore::Open(dir_.Path(name));
    EXPECT_TRUE(opened.ok()) << opened.error().message();
    return opened.ok() ? std::move(*opened) : nullptr;
  }
  // Commits "doc N" N = 1..count; returns the ids oldest first.
  std::vector<std::string> CommitMany(int count) {
    std::vector<std::string> ids;
    for (int i = 1; i <= count; ++i) {
      auto id = git_->CommitFile("recovery.json", "doc " + std::to_string(i) + std::string(i, '.'),
                                 "snapshot " + std::to_string(i), clock_.WallNow());
      EXPECT_TRUE(id.ok()) << id.error().message();
      ids.push_back(id.value_or(""));
      clock_.AdvanceBy(std::chrono::seconds(10));
    }
    return ids;
  }
  std::vector<std::string> LoggedIds() {
    std::vector<std::string> ids;
    for (const CommitInfo& info : *git_->Log()) {
      ids.push_back(info.id);
    }
    return ids;
  }
  std::string Repo() const { return dir_.Path("repo"); }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<GitStore> git_;
};

TEST_F(GitRetentionTest, KeepsTheNewestNAndEveryTaggedSnapshotWithTheirIds) {
  const auto ids = CommitMany(6);
  ASSERT_TRUE(git_->Tag(ids[1], "known-good").ok());
  auto pruned = git_->Prune({.keep = 2});
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ(pruned->kept, 3);
  EXPECT_EQ(pruned->dropped, 3);          // 1, 3, 4
  EXPECT_EQ(pruned->objects_removed, 6);  // their trees and blobs
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{ids[5], ids[4], ids[1]}));
  EXPECT_EQ(*git_->ReadFile(ids[4], "recovery.json"), "doc 5.....");
  EXPECT_EQ(*git_->ReadFile("known-good", "recovery.json"), "doc 2..");
  EXPECT_FALSE(git_->ReadFile(ids[3], "recovery.json").ok());
  auto check = git_->CheckObjects();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty()) << check->problems[0];
  EXPECT_TRUE(GitFsckPasses(Repo()));
  EXPECT_EQ(GitOutput(Repo(), "log --format=%H"), ids[5] + "\n" + ids[4] + "\n");
  EXPECT_EQ(GitOutput(Repo(), "log --format=%H known-good"), ids[1] + "\n");
  auto late_tag = git_->Tag(ids[2], "too-late");  // its document is gone
  ASSERT_FALSE(late_tag.ok());
  EXPECT_EQ(late_tag.error().category(), ErrorCategory::kNotFound);
  auto recovered = git_->ReadFile(ids[2], "recovery.json");
  EXPECT_NE(recovered.error().message().find("pruned"), std::string::npos);
}

TEST_F(GitRetentionTest, WithinOneSecondTheListIsNewestFirstWithTaggedOnesAfterTheBoundary) {
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {  // the same commit second for all
    ids.push_back(*git_->CommitFile("recovery.json", std::to_string(i), "m", clock_.WallNow()));
  }
  ASSERT_TRUE(git_->Tag(ids[0], "first").ok());
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{ids[3], ids[2], ids[1], ids[0]}));
  ASSERT_TRUE(git_->Prune({.keep = 2}).ok());
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{ids[3], ids[2], ids[0]}));
}

TEST_F(GitRetentionTest, KeepZeroKeepsEverythingAndPruningTwiceIsANoOp) {
  const auto ids = CommitMany(4);
  EXPECT_EQ(git_->Prune({.keep = 0})->dropped, 0);
  EXPECT_EQ(LoggedIds().size(), 4u);
  EXPECT_EQ(git_->Prune({.keep = 3})->dropped, 1);
  auto again = git_->Prune({.keep = 3});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dropped, 0);
  EXPECT_EQ(again->kept, 3);
  EXPECT_TRUE(GitFsckPasses(Repo()));
}

TEST_F(GitRetentionTest, CapturesAfterPruningMoveTheBoundaryAndFsckStillPasses) {
  CommitMany(5);
  ASSERT_TRUE(git_->Prune({.keep = 2}).ok());
  const auto later = CommitMany(3);
  auto pruned = git_->Prune({.keep = 2});
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ(pruned->dropped, 3);  // the two kept before and the first new one
  EXPECT_EQ(LoggedIds(), (std::vector<std::string>{later[2], later[1]}));
  EXPECT_EQ(GitOutput(Repo(), "rev-list --count HEAD"), "2\n");
  EXPECT_TRUE(GitFsckPasses(Repo()));
  git_ = Open("repo");  // a fresh process sees the same
  EXPECT_EQ(LoggedIds().size(), 2u);
}

TEST_F(GitRetentionTest, ARecoverAtBeforeTheOldestKeptSnapshotSaysItWasPruned) {
  const WallTime start = clock_.WallNow();
  CommitMany(4);
  ASSERT_TRUE(git_->Prune({.keep = 2}).ok());
  auto found = git_->FindAtOrBefore(start + std::chrono::seconds(5));
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().category(), ErrorCategory::kNotFound);
  EXPECT_NE(found.error().message().find("pruned"), std::string::npos) << found.error().message();
  EXPECT_TRUE(git_->FindAtOrBefore(start + std::chrono::seconds(25)).ok());
}

TEST_F(GitRetentionTest, KeepUnpushedKeepsWhatTheRemoteLacksAndPushStillWorksAfterPruning) {
  ASSERT_TRUE(GitInitBare(dir_.Path("remote.git")));
  const std::string url = "file://" + dir_.Path("remote.git");
  CommitMany(3);
  ASSERT_TRUE(git_->Push(url).ok());
  const auto unpushed = CommitMany(3);
  auto pruned = git_->Prune({.keep = 1, .keep_unpushed = true});
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ(pruned->kept, 4);  // three not pushed, and the last pushed one
  Status pushed = git_->Push(url);
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ(git_->Prune({.keep = 1, .keep_unpushed = true})->kept, 1);
  EXPECT_TRUE(GitFsckPasses(Repo()));
  EXPECT_EQ(GitOutput(dir_.Path("remote.git"), "rev-list --count HEAD"), "6\n");
  const auto after = CommitMany(1);
  Status pushed_again = git_->Push(url);
  ASSERT_TRUE(pushed_again.ok()) << pushed_again.error().message();
  EXPECT_EQ(GitOutput(dir_.Path("remote.git"), "rev-parse HEAD"), after[0] + "\n");
  EXPECT_TRUE(GitFsckPasses(dir_.Path("remote.git")));
}

TEST_F(GitRetentionTest, PackedDocumentsArePrunedByRewritingThePack) {
  ASSERT_TRUE(GitInitBare(dir_.Path("remote.git")));
  const std::string url = "file://" + dir_.Path("remote.git");
  const auto ids = CommitMany(5);
  ASSERT_TRUE(git_->Push(url).ok());
  auto cloned = GitStore::CloneFrom(url, dir_.Path("clone"));
  ASSERT_TRUE(cloned.ok()) << cloned.error().message();
  EXPECT_EQ(GitOutput(dir_.Path("clone"), "count-objects -v").find("count: 0"), 0u)
      << "the clone should hold its objects in a pack";
  auto pruned = (*cloned)->Prune({.keep = 2});
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ(pruned->dropped, 3);
  EXPECT_EQ(pruned->objects_removed, 6);
  EXPECT_FALSE((*cloned)->ReadFile(ids[0], "recovery.json").ok());
  EXPECT_EQ(*(*cloned)->ReadFile(ids[3], "recovery.json"), "doc 4....");
  EXPECT_TRUE(GitFsckPasses(dir_.Path("clone")));
  EXPECT_EQ(GitOutput(dir_.Path("clone"), "rev-list --count HEAD"), "2\n");
}

}  // namespace
}  // namespace rebound::snapshot
