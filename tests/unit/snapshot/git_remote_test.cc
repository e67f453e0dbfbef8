// GitStore and remotes: comparing with a remote, cloning the history back.

#include <gtest/gtest.h>

#include <filesystem>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/git_store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class GitRemoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = GitStore::Open(dir_.Path("repo"));
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    git_ = std::move(*opened);
    ASSERT_TRUE(GitInitBare(dir_.Path("remote.git")));
  }
  std::string Commit(const std::string& content) {
    auto id = git_->CommitFile("recovery.json", content, content, clock_.WallNow());
    EXPECT_TRUE(id.ok()) << id.error().message();
    clock_.AdvanceBy(std::chrono::seconds(10));
    return id.value_or("");
  }
  std::string url() const { return "file://" + dir_.Path("remote.git"); }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<GitStore> git_;
};

TEST_F(GitRemoteTest, ComparingSaysHowFarTheRemoteIsBehind) {
  Commit("one");
  auto empty = git_->CompareWithRemote(url());
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_EQ(empty->remote_head, "");
  EXPECT_EQ(empty->remote_behind_by, 1);
  EXPECT_EQ(empty->last_pushed, "");
  ASSERT_TRUE(git_->Push(url()).ok());
  Commit("two");
  const std::string third = Commit("three");
  auto behind = git_->CompareWithRemote(url());
  ASSERT_TRUE(behind.ok());
  EXPECT_EQ(behind->remote_behind_by, 2);
  EXPECT_EQ(behind->local_head, third);
  EXPECT_NE(behind->last_pushed, "");
  ASSERT_TRUE(git_->Push(url()).ok());
  auto level = git_->CompareWithRemote(url());
  EXPECT_EQ(level->remote_behind_by, 0);
  EXPECT_EQ(level->remote_head, third);
  EXPECT_EQ(level->last_pushed, third);
}

TEST_F(GitRemoteTest, ARemoteWithSnapshotsThisRepositoryLacksIsReportedAsDiverged) {
  auto other = GitStore::Open(dir_.Path("other"));
  ASSERT_TRUE((*other)->CommitFile("recovery.json", "x", "elsewhere", clock_.WallNow()).ok());
  ASSERT_TRUE((*other)->Push(url()).ok());
  Commit("mine");
  EXPECT_EQ(git_->CompareWithRemote(url())->remote_behind_by, -1);
}

TEST_F(GitRemoteTest, AnUnreachableRemoteIsAnError) {
  EXPECT_FALSE(git_->CompareWithRemote("file://" + dir_.Path("nowhere.git")).ok());
}

TEST_F(GitRemoteTest, CloningBringsBackEveryCommitAndTagWithTheSameIds) {
  const std::string first = Commit("one");
  ASSERT_TRUE(git_->Tag(first, "known-good").ok());
  const std::string second = Commit("two");
  ASSERT_TRUE(git_->Push(url()).ok());
  auto cloned = GitStore::CloneFrom(url(), dir_.Path("data/snapshots"));
  ASSERT_TRUE(cloned.ok()) << cloned.error().message();
  EXPECT_EQ(**(*cloned)->Head(), second);
  EXPECT_EQ(*(*cloned)->ResolveCommit("known-good"), first);
  EXPECT_EQ(*(*cloned)->ReadFile(first, "recovery.json"), "one");
  EXPECT_EQ((*cloned)->Log()->size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(dir_.Path("data/snapshots.cloning")));
  EXPECT_TRUE(GitFsckPasses(dir_.Path("data/snapshots")));
  // The clone has everything the remote has: nothing to push, and new captures push on top.
  EXPECT_EQ((*cloned)->CompareWithRemote(url())->remote_behind_by, 0);
  ASSERT_TRUE((*cloned)->CommitFile("recovery.json", "three", "m", clock_.WallNow()).ok());
  EXPECT_TRUE((*cloned)->Push(url()).ok());
}

TEST_F(GitRemoteTest, CloningRefusesToOverwriteARepositoryAndAnEmptyRemoteIsNotFound) {
  Commit("one");
  ASSERT_TRUE(git_->Push(url()).ok());
  auto clobber = GitStore::CloneFrom(url(), dir_.Path("repo"));
  ASSERT_FALSE(clobber.ok());
  EXPECT_EQ(clobber.error().category(), ErrorCategory::kConflict);
  ASSERT_TRUE(GitInitBare(dir_.Path("empty.git")));
  auto empty = GitStore::CloneFrom("file://" + dir_.Path("empty.git"), dir_.Path("fresh"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().category(), ErrorCategory::kNotFound) << empty.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir_.Path("fresh")));
}

}  // namespace
}  // namespace rebound::snapshot
