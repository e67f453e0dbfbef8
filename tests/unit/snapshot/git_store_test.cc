#include "snapshot/git_store.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class GitStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = GitStore::Open(dir_.Path("repo"));
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    git_ = std::move(*opened);
  }
  std::string Commit(const std::string& content, const std::string& message) {
    auto id = git_->CommitFile("recovery.json", content, message, clock_.WallNow());
    EXPECT_TRUE(id.ok()) << id.error().message();
    clock_.AdvanceBy(std::chrono::seconds(10));
    return id.value_or("");
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<GitStore> git_;
};

TEST_F(GitStoreTest, AFreshRepositoryHasNoHeadAndAnEmptyLog) {
  EXPECT_FALSE(git_->Head()->has_value());
  EXPECT_TRUE(git_->Log()->empty());
  EXPECT_EQ(git_->FindAtOrBefore(clock_.WallNow()).error().category(), ErrorCategory::kNotFound);
}

TEST_F(GitStoreTest, CommitsReadBackAtEachCommitNewestFirst) {
  const std::string first = Commit("one", "first");
  const std::string second = Commit("two", "second\n\nbody");
  EXPECT_EQ(first.size(), 40u);
  EXPECT_EQ(**git_->Head(), second);
  auto log = git_->Log();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].id, second);
  EXPECT_EQ((*log)[0].message, "second");
  EXPECT_EQ((*log)[1].id, first);
  EXPECT_EQ(*git_->ReadFile(first, "recovery.json"), "one");
  EXPECT_EQ(*git_->ReadFile(second.substr(0, 10), "recovery.json"), "two");
  EXPECT_EQ(*git_->FileSize(second, "recovery.json"), 3);
}

TEST_F(GitStoreTest, CommitsAreCanonicalObjectsTheGitCliReads) {
  const std::string first = Commit("one\n", "first");
  const std::string second = Commit("two\n", "second\n\nbody");
  const std::string repo = dir_.Path("repo");
  EXPECT_EQ(GitOutput(repo, "log --format='%H %P|%an <%ae>|%s'"),
            second + " " + first + "|rebound <rebound@localhost>|second\n" + first +
                " |rebound <rebound@localhost>|first\n");
  EXPECT_EQ(GitOutput(repo, "show " + first + ":recovery.json"), "one\n");
  // The blob id is git's own hash of the content ("two\n" hashes to this in any git).
  EXPECT_EQ(GitOutput(repo, "rev-parse " + second + ":recovery.json"),
            "f719efd430d52bcfc8566a43b2eb655688d38871\n");
  EXPECT_EQ(GitOutput(repo, "ls-tree --name-only " + second), "recovery.json\n");
  EXPECT_TRUE(GitFsckPasses(repo));
  EXPECT_EQ(git_->CommitFile("a/b.json", "x", "m", clock_.WallNow()).error().category(),
            ErrorCategory::kValidation);
}

TEST_F(GitStoreTest, TagsNameCommitsAndAreListed) {
  const std::string first = Commit("one", "first");
  Commit("two", "second");
  ASSERT_TRUE(git_->Tag(first, "known-good").ok());
  EXPECT_EQ(*git_->ResolveCommit("known-good"), first);
  EXPECT_EQ(*git_->ReadFile("known-good", "recovery.json"), "one");
  EXPECT_EQ((*git_->Log())[1].tags, std::vector<std::string>{"known-good"});
  EXPECT_EQ(git_->Tag(first, "known-good").error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(git_->Tag(first, "bad..name").error().category(), ErrorCategory::kValidation);
}

TEST_F(GitStoreTest, UnknownRevisionsAreNotFound) {
  Commit("one", "first");
  EXPECT_EQ(git_->ReadFile("nope", "recovery.json").error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(git_->ReadFile("HEAD", "other.json").error().category(), ErrorCategory::kNotFound);
}

TEST_F(GitStoreTest, FindsTheLastCommitAtOrBeforeATime) {
  const WallTime t0 = clock_.WallNow();
  const std::string first = Commit("one", "first");    // at t0
  const std::string second = Commit("two", "second");  // at t0 + 10 s
  EXPECT_EQ(git_->FindAtOrBefore(t0)->id, first);
  EXPECT_EQ(git_->FindAtOrBefore(t0 + std::chrono::seconds(9))->id, first);
  EXPECT_EQ(git_->FindAtOrBefore(t0 + std::chrono::seconds(10))->id, second);
  EXPECT_EQ(git_->FindAtOrBefore(t0 + std::chrono::hours(1))->id, second);
  EXPECT_FALSE(git_->FindAtOrBefore(t0 - std::chrono::seconds(1)).ok());
}

TEST_F(GitStoreTest, ReopeningKeepsTheHistoryAndGitFsckPasses) {
  const std::string first = Commit("one", "first");
  Commit(std::string(100000, 'x'), "big");
  ASSERT_TRUE(git_->Tag(first, "v1").ok());
  git_.reset();
  EXPECT_TRUE(GitFsckPasses(dir_.Path("repo")));
  auto reopened = GitStore::Open(dir_.Path("repo"));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Log()->size(), 2u);
  auto check = (*reopened)->CheckObjects();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty());
  EXPECT_EQ(check->objects_checked, 6);  // 2 commits, 2 trees, 2 blobs
}

TEST_F(GitStoreTest, CheckObjectsFindsAFlippedByteInACommit) {
  Commit("one", "first");
  const std::string second = Commit("two", "second");
  git_.reset();
  FlipByteOfObject(dir_.Path("repo"), second);
  auto reopened = GitStore::Open(dir_.Path("repo"));
  ASSERT_TRUE(reopened.ok());
  auto check = (*reopened)->CheckObjects();
  ASSERT_TRUE(check.ok());
  ASSERT_FALSE(check->problems.empty());
  EXPECT_NE(check->problems[0].find(second), std::string::npos) << check->problems[0];
  EXPECT_FALSE(GitFsckPasses(dir_.Path("repo")));
}

}  // namespace
}  // namespace rebound::snapshot

namespace rebound::snapshot {
namespace {

TEST_F(GitStoreTest, PushesTheBranchAndTagsToABareRemote) {
  auto remote = GitStore::Open(dir_.Path("remote.git"));
  ASSERT_TRUE(remote.ok());
  const std::string first = Commit("one", "first");
  ASSERT_TRUE(git_->Tag(first, "good").ok());
  const std::string second = Commit("two", "second");
  Status pushed = git_->Push("file://" + dir_.Path("remote.git"));
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  auto reopened = GitStore::Open(dir_.Path("remote.git"));
  EXPECT_EQ(**(*reopened)->Head(), second);
  EXPECT_EQ(*(*reopened)->ResolveCommit("good"), first);
  EXPECT_TRUE(GitFsckPasses(dir_.Path("remote.git")));
  Commit("three", "third");
  EXPECT_TRUE(git_->Push("file://" + dir_.Path("remote.git")).ok());  // fast-forward
}

TEST_F(GitStoreTest, PushToAMissingRemoteFailsWithoutRetryMeaningAndADivergedOneIsAConflict) {
  Commit("one", "first");
  Status missing = git_->Push("file://" + dir_.Path("nowhere.git"));
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(IsRetryableByDefault(missing.error().category())) << missing.error().ToString();
  auto other = GitStore::Open(dir_.Path("other.git"));
  ASSERT_TRUE((*other)->CommitFile("recovery.json", "x", "elsewhere", clock_.WallNow()).ok());
  Status diverged = git_->Push("file://" + dir_.Path("other.git"));
  ASSERT_FALSE(diverged.ok());
  EXPECT_EQ(diverged.error().category(), ErrorCategory::kConflict) << diverged.error().ToString();
}

}  // namespace
}  // namespace rebound::snapshot

namespace rebound::snapshot {
namespace {

TEST_F(GitStoreTest, AStaleRefLockLeftByAKilledWriterIsRemovedOnlyWhenAsked) {
  Commit("one", "first");
  git_.reset();
  std::ofstream(dir_.Path("repo/refs/heads/master.lock")) << "";
  auto plain = GitStore::Open(dir_.Path("repo"));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE((*plain)->CommitFile("recovery.json", "two", "m", clock_.WallNow()).ok());
  plain->reset();
  auto cleaning = GitStore::Open(dir_.Path("repo"), {.remove_stale_locks = true});
  ASSERT_TRUE(cleaning.ok());
  EXPECT_EQ((*cleaning)->removed_locks().size(), 1u);
  EXPECT_TRUE((*cleaning)->CommitFile("recovery.json", "two", "m", clock_.WallNow()).ok());
}

}  // namespace
}  // namespace rebound::snapshot
