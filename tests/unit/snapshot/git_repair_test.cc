// GitStore::RepairFrom: deleted and corrupted objects, loose and packed, fetched back.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/git_store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

namespace fs = std::filesystem;

class GitRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(GitInitBare(dir_.Path("remote.git")));
    auto opened = GitStore::Open(dir_.Path("repo"));
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    git_ = std::move(*opened);
  }
  std::string Commit(const std::string& content) {
    auto id = git_->CommitFile("recovery.json", content, content, clock_.WallNow());
    EXPECT_TRUE(id.ok()) << id.error().message();
    clock_.AdvanceBy(std::chrono::seconds(10));
    return id.value_or("");
  }
  std::string ObjectFile(const std::string& repo, const std::string& id) const {
    return dir_.Path(repo) + "/objects/" + id.substr(0, 2) + "/" + id.substr(2);
  }
  std::string BlobOf(const std::string& repo, const std::string& commit) {
    return GitOutput(dir_.Path(repo), "rev-parse " + commit + ":recovery.json").substr(0, 40);
  }
  std::string url() const { return "file://" + dir_.Path("remote.git"); }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<GitStore> git_;
};

TEST_F(GitRepairTest, DeletedAndCorruptedLooseObjectsAreFetchedBackAndFsckPasses) {
  const std::string first = Commit("one");
  const std::string second = Commit("two");
  ASSERT_TRUE(git_->Push(url()).ok());
  const std::string blob = BlobOf("repo", first);
  ASSERT_TRUE(fs::remove(ObjectFile("repo", blob)));
  FlipByteOfObject(dir_.Path("repo"), second);
  git_ = std::move(*GitStore::Open(dir_.Path("repo")));
  ASSERT_FALSE(git_->CheckObjects()->problems.empty());

  auto repaired = git_->RepairFrom(url());
  ASSERT_TRUE(repaired.ok()) << repaired.error().message();
  EXPECT_EQ(repaired->restored, 2);
  ASSERT_EQ(repaired->quarantined.size(), 1u);  // the corrupted commit; the blob was just gone
  EXPECT_NE(repaired->quarantined[0].find(second), std::string::npos);
  EXPECT_TRUE(repaired->unrepairable.empty());
  auto check = git_->CheckObjects();
  EXPECT_TRUE(check->problems.empty()) << check->problems[0];
  EXPECT_EQ(*git_->ReadFile(first, "recovery.json"), "one");
  EXPECT_TRUE(GitFsckPasses(dir_.Path("repo")));
  EXPECT_FALSE(fs::exists(dir_.Path("repo.repair")));
}

TEST_F(GitRepairTest, ACorruptedPackIsMovedAsideAndItsObjectsFetchedBack) {
  const std::string first = Commit(std::string(20000, 'a'));
  Commit(std::string(20000, 'b'));
  ASSERT_TRUE(git_->Push(url()).ok());
  auto cloned = GitStore::CloneFrom(url(), dir_.Path("clone"));  // its objects are in a pack
  ASSERT_TRUE(cloned.ok()) << cloned.error().message();
  cloned->reset();
  std::string pack;
  for (const auto& entry : fs::directory_iterator(dir_.Path("clone/objects/pack"))) {
    if (entry.path().extension() == ".pack") {
      pack = entry.path().string();
    }
  }
  ASSERT_FALSE(pack.empty());
  {
    fs::permissions(pack, fs::perms::owner_write, fs::perm_options::add);
    std::fstream file(pack, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(pack) / 2));
    file.write("\x5a\x5a\x5a\x5a", 4);
  }
  auto damaged = GitStore::Open(dir_.Path("clone"));
  ASSERT_FALSE((*damaged)->CheckObjects()->problems.empty());
  EXPECT_FALSE(GitFsckPasses(dir_.Path("clone")));

  auto repaired = (*damaged)->RepairFrom(url());
  ASSERT_TRUE(repaired.ok()) << repaired.error().message();
  EXPECT_GE(repaired->restored, 6);  // every object of the pack: 2 commits, 2 trees, 2 blobs
  EXPECT_FALSE(repaired->quarantined.empty());
  EXPECT_TRUE((*damaged)->CheckObjects()->problems.empty());
  EXPECT_EQ(*(*damaged)->ReadFile(first, "recovery.json"), std::string(20000, 'a'));
  EXPECT_TRUE(GitFsckPasses(dir_.Path("clone")));
}

TEST_F(GitRepairTest, AnObjectTheRemoteNeverHadIsReportedUnrepairable) {
  Commit("pushed");
  ASSERT_TRUE(git_->Push(url()).ok());
  const std::string local = Commit("never pushed");
  const std::string blob = BlobOf("repo", local);
  ASSERT_TRUE(fs::remove(ObjectFile("repo", blob)));
  auto repaired = git_->RepairFrom(url());
  ASSERT_TRUE(repaired.ok()) << repaired.error().message();
  EXPECT_EQ(repaired->unrepairable, std::vector<std::string>{blob});
  EXPECT_FALSE(git_->CheckObjects()->problems.empty());
}

TEST_F(GitRepairTest, AnUnreachableRemoteIsAnErrorAndChangesNothing) {
  Commit("one");
  auto repaired = git_->RepairFrom("file://" + dir_.Path("nowhere.git"));
  EXPECT_FALSE(repaired.ok());
  EXPECT_TRUE(git_->CheckObjects()->problems.empty());
}

}  // namespace
}  // namespace rebound::snapshot
