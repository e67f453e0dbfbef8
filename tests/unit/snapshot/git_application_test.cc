// GitStore in an application's own repository ([snapshots] document_path), checked with the
// real git CLI: a capture commits only the document's path, keeps the user's staged and
// unstaged changes, and refuses the states where a commit would be a guess.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/manual_clock.h"
#include "git_test_util.h"
#include "snapshot/git_store.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

constexpr char kDocument[] = "config/recovery.json";

// `git ARGS` in `repo` as a user would run it; true on exit status 0.
bool Git(const std::string& repo, const std::string& args) {
  const std::string command = "git -c user.name=dev -c user.email=dev@example.com -C '" + repo +
                              "' " + args + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

void WriteText(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string ReadText(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

WallTime At(int64_t seconds) { return WallTime(std::chrono::seconds(seconds)); }

class GitApplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.Path("app");
    ASSERT_TRUE(Git(dir_.path(), "init -q -b main app"));
    std::filesystem::create_directories(repo_ + "/src");
    WriteText(repo_ + "/README", "the app\n");
    WriteText(repo_ + "/src/main.c", "int main() { return 0; }\n");
    ASSERT_TRUE(Git(repo_, "add README src/main.c"));
    ASSERT_TRUE(Git(repo_, "commit -q -m initial"));
  }

  std::unique_ptr<GitStore> Open() {
    auto store = GitStore::Open(repo_, {.document_path = kDocument});
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store.ok() ? std::move(*store) : nullptr;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::string repo_;
};

TEST_F(GitApplicationTest, ACaptureCommitsOnlyTheDocumentAndKeepsTheUsersChanges) {
  WriteText(repo_ + "/README", "the app, staged edit\n");
  ASSERT_TRUE(Git(repo_, "add README"));
  // Unstaged, and of another size: an edit of the same size in the same second as the index
  // entry is git's "racy git" case, which libgit2 (nanosecond stamps) and the git CLI
  // (seconds) judge differently; that would test them, not rebound.
  WriteText(repo_ + "/src/main.c", "int main() { return 10; }\n");
  ASSERT_TRUE(Git(repo_, "branch feature"));
  const std::string feature = GitOutput(repo_, "rev-parse feature");
  auto git = Open();
  ASSERT_NE(git, nullptr);

  auto first = git->CommitFile(kDocument, "{\"n\": 1}\n", "snapshot one", At(1000));
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = git->CommitFile(kDocument, "{\"n\": 2}\n", "snapshot two", At(1001));
  ASSERT_TRUE(second.ok()) << second.error().message();

  EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), *second + "\n");
  EXPECT_EQ(GitOutput(repo_, "show --name-only --format= HEAD"), "config/recovery.json\n");
  EXPECT_EQ(GitOutput(repo_, "show --name-only --format= HEAD~1"), "config/recovery.json\n");
  EXPECT_EQ(GitOutput(repo_, "show HEAD:README"), "the app\n");  // the staged edit not committed
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "M  README\n M src/main.c\n");
  EXPECT_EQ(ReadText(repo_ + "/" + kDocument), "{\"n\": 2}\n");
  EXPECT_EQ(GitOutput(repo_, "rev-parse feature"), feature);
  EXPECT_EQ(GitOutput(repo_, "log -1 --format=%an%n%s"), "rebound\nsnapshot two\n");
  EXPECT_TRUE(GitFsckPasses(repo_));
}

TEST_F(GitApplicationTest, ListsOnlyTheCommitsThatChangedTheDocument) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto first = git->CommitFile(kDocument, "one\n", "first", At(1000));
  ASSERT_TRUE(first.ok()) << first.error().message();
  WriteText(repo_ + "/README", "more\n");
  ASSERT_TRUE(Git(repo_, "commit -q -am 'a code change'"));
  auto second = git->CommitFile(kDocument, "two\n", "second", At(3000));
  ASSERT_TRUE(second.ok()) << second.error().message();
  ASSERT_TRUE(Git(repo_, "commit -q --allow-empty -m 'after'"));

  auto log = git->Log();
  ASSERT_TRUE(log.ok()) << log.error().message();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].id, *second);
  EXPECT_EQ((*log)[1].id, *first);
  EXPECT_EQ(**git->NewestSnapshot(), *second);
  EXPECT_EQ(git->FindAtOrBefore(At(2000))->id, *first);
  ASSERT_TRUE(git->Tag(*first, "known-good").ok());
  EXPECT_EQ(*git->ReadFile("known-good", kDocument), "one\n");
  EXPECT_EQ(git->Log()->back().tags, std::vector<std::string>{"known-good"});
}

TEST_F(GitApplicationTest, TheNewestSnapshotFollowsHistoryWhenTheClockWasSteppedBack) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto first = git->CommitFile(kDocument, "one\n", "first", At(5000));
  ASSERT_TRUE(first.ok()) << first.error().message();
  // The clock was stepped back an hour: the later snapshot carries the older time.
  auto second = git->CommitFile(kDocument, "two\n", "second", At(5000 - 3600));
  ASSERT_TRUE(second.ok()) << second.error().message();
  WriteText(repo_ + "/README", "more\n");
  ASSERT_TRUE(Git(repo_, "commit -q -am 'a code change'"));

  EXPECT_EQ(**git->NewestSnapshot(), *second);
  auto log = git->Log();
  ASSERT_TRUE(log.ok()) << log.error().message();
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].id, *second);
  EXPECT_EQ((*log)[1].id, *first);
  // --at compares recorded times: the latest at or before the given time.
  EXPECT_EQ(git->FindAtOrBefore(At(5000 - 1800))->id, *second);
  EXPECT_EQ(git->FindAtOrBefore(At(6000))->id, *first);
  EXPECT_FALSE(git->FindAtOrBefore(At(1000)).ok());
}

TEST_F(GitApplicationTest, RecoveryReadsTheDocumentAtTheCommitAndChecksOutNothing) {
  auto store = store::Store::OpenInMemory(clock_);
  ASSERT_TRUE(store.ok());
  auto git = Open();
  ASSERT_NE(git, nullptr);
  Snapshotter snapshots(*git, (*store)->states(), DefaultFileSystem(), clock_,
                        {.document_path = dir_.Path("recovery.json")});
  ASSERT_TRUE((*store)->states().Put("cache", {{"v", 1}}, std::nullopt).get().ok());
  auto one = snapshots.Capture({}, "offline", "v1");
  ASSERT_TRUE(one.ok()) << one.error().message();
  clock_.AdvanceBy(std::chrono::seconds(10));
  ASSERT_TRUE((*store)->states().Put("cache", {{"v", 2}}, std::nullopt).get().ok());
  auto two = snapshots.Capture({}, "offline", "v2");
  ASSERT_TRUE(two.ok()) << two.error().message();
  ASSERT_TRUE(snapshots.Tag(one->commit, "first").ok());
  WriteText(repo_ + "/README", "work in progress\n");

  for (const SnapshotSelector& selector :
       {SnapshotSelector{.commit = one->commit.substr(0, 10)}, SnapshotSelector{.tag = "first"},
        SnapshotSelector{.at_ms = one->timestamp_ms + 5000}}) {
    auto plan = snapshots.Plan(selector, {});
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    EXPECT_EQ(plan->commit, one->commit);
    ASSERT_EQ(plan->modules.size(), 1u);
    EXPECT_EQ(plan->modules[0].target, nlohmann::json({{"v", 1}}));
  }
  EXPECT_EQ(snapshots.Plan({}, {})->commit, two->commit);
  EXPECT_EQ(ReadText(repo_ + "/README"), "work in progress\n");
  EXPECT_EQ(snapshots.List()->size(), 2u);
}

TEST_F(GitApplicationTest, PushesTheBranchAndTagsAndChecksEveryObject) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto taken = git->CommitFile(kDocument, "one\n", "first", At(1000));
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  ASSERT_TRUE(git->Tag(*taken, "v1").ok());
  ASSERT_TRUE(GitInitBare(dir_.Path("backup.git")));
  Status pushed = git->Push("file://" + dir_.Path("backup.git"));
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ(GitOutput(dir_.Path("backup.git"), "rev-parse main v1"), *taken + "\n" + *taken + "\n");
  EXPECT_EQ(GitOutput(dir_.Path("backup.git"), "show main:config/recovery.json"), "one\n");
  auto check = git->CheckObjects();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->problems.empty());
  EXPECT_GE(check->objects_checked, 7);  // 2 commits, their trees, config/, 3 blobs
}

TEST_F(GitApplicationTest, TheRemoteIsBehindBySnapshotsNotByTheApplicationsOwnCommits) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "one\n", "first", At(1000)).ok());
  ASSERT_TRUE(GitInitBare(dir_.Path("backup.git")));
  const std::string remote = "file://" + dir_.Path("backup.git");
  ASSERT_TRUE(git->Push(remote).ok());
  WriteText(repo_ + "/README", "more\n");
  ASSERT_TRUE(Git(repo_, "commit -q -am 'a code change'"));
  ASSERT_TRUE(git->CommitFile(kDocument, "two\n", "second", At(2000)).ok());
  ASSERT_TRUE(Git(repo_, "commit -q --allow-empty -m 'another'"));

  auto compared = git->CompareWithRemote(remote);
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_EQ(compared->remote_behind_by, 1);  // three commits, one of them a snapshot
  ASSERT_TRUE(git->Push(remote).ok());
  EXPECT_EQ(git->CompareWithRemote(remote)->remote_behind_by, 0);
  ASSERT_TRUE(Git(repo_, "commit -q --allow-empty -m 'code only'"));
  EXPECT_EQ(git->CompareWithRemote(remote)->remote_behind_by, 0);
}

TEST_F(GitApplicationTest, RetentionAndRepairAreRefused) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "one\n", "first", At(1000)).ok());
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  auto pruned = git->Prune({.keep = 1});
  ASSERT_FALSE(pruned.ok());
  EXPECT_EQ(pruned.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(pruned.error().message().find("never rewrites"), std::string::npos);
  EXPECT_FALSE(git->RepairFrom("file:///nowhere").ok());
  EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
}

// The capture must leave the user's version of the document where it was: refused, nothing
// written, and the next capture goes through once the change is committed or discarded.
void ExpectLocalChangesRefused(GitStore& git, const std::string& repo, const std::string& kept) {
  const std::string head = GitOutput(repo, "rev-parse HEAD");
  auto taken = git.CommitFile(kDocument, "{\"n\": 9}\n", "m", At(2000));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kConflict);
  EXPECT_NE(taken.error().message().find("config/recovery.json has local changes: commit or "
                                         "discard them"),
            std::string::npos)
      << taken.error().message();
  EXPECT_EQ(GitOutput(repo, "rev-parse HEAD"), head);
  EXPECT_EQ(ReadText(repo + "/" + kDocument), kept);
}

TEST_F(GitApplicationTest, LocalChangesToTheDocumentRefuseTheCapture) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "{\"n\": 1}\n", "first", At(1000)).ok());

  WriteText(repo_ + "/" + kDocument, "{\"n\": 1, \"edited\": true}\n");  // unstaged
  ExpectLocalChangesRefused(*git, repo_, "{\"n\": 1, \"edited\": true}\n");
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), " M config/recovery.json\n");

  ASSERT_TRUE(Git(repo_, "add config/recovery.json"));  // staged
  ExpectLocalChangesRefused(*git, repo_, "{\"n\": 1, \"edited\": true}\n");
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "M  config/recovery.json\n");

  ASSERT_TRUE(Git(repo_, "rm -qf config/recovery.json"));  // deleted
  ASSERT_FALSE(git->CommitFile(kDocument, "x\n", "m", At(2000)).ok());

  ASSERT_TRUE(Git(repo_, "reset -q --hard"));  // discarded: captures again
  auto taken = git->CommitFile(kDocument, "{\"n\": 2}\n", "second", At(3000));
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "");
}

TEST_F(GitApplicationTest, AnUncommittedFileAtTheDocumentPathRefusesTheFirstCapture) {
  std::filesystem::create_directories(repo_ + "/config");
  WriteText(repo_ + "/" + kDocument, "the user's own\n");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ExpectLocalChangesRefused(*git, repo_, "the user's own\n");
  WriteText(repo_ + "/.gitignore", "config/\n");  // ignored, still the user's
  ExpectLocalChangesRefused(*git, repo_, "the user's own\n");
}

TEST_F(GitApplicationTest, AGitCommandHoldingTheIndexOrTheBranchRefusesBeforeAnythingIsWritten) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "one\n", "first", At(1000)).ok());
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  for (const std::string lock : {"/.git/index.lock", "/.git/refs/heads/main.lock"}) {
    WriteText(repo_ + lock, "");  // the user's git is running
    auto taken = git->CommitFile(kDocument, "two\n", "second", At(2000));
    ASSERT_FALSE(taken.ok()) << lock;
    EXPECT_EQ(taken.error().category(), ErrorCategory::kConflict) << lock;
    EXPECT_NE(taken.error().message().find("a git command is running in " + repo_),
              std::string::npos)
        << taken.error().message();
    EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
    EXPECT_EQ(ReadText(repo_ + "/" + kDocument), "one\n");
    EXPECT_TRUE(std::filesystem::exists(repo_ + lock)) << "the user's lock is not rebound's";
    std::filesystem::remove(repo_ + lock);
    EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "");
  }
  EXPECT_TRUE(git->CommitFile(kDocument, "two\n", "second", At(2000)).ok());
}

TEST_F(GitApplicationTest, TheIndexIsLockedForTheWholeCaptureSoAGitAddIsNeverLost) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  WriteText(repo_ + "/README", "edited while rebound commits\n");
  bool added_meanwhile = true;
  auto taken = git->CommitFile(kDocument, "one\n", "first", At(1000), [&] {
    added_meanwhile = Git(repo_, "add README");  // git finds index.lock and gives up
    return OkStatus();
  });
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_FALSE(added_meanwhile);
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/.git/index.lock"));
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), " M README\n");
  ASSERT_TRUE(Git(repo_, "add README"));  // and afterwards it works, and is kept
  ASSERT_TRUE(git->CommitFile(kDocument, "two\n", "second", At(2000)).ok());
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "M  README\n");
  EXPECT_TRUE(GitFsckPasses(repo_));
}

// The branch cannot move at the last step: the work tree file and the index are put back, so
// the next capture is not refused for "local changes" rebound made itself.
TEST_F(GitApplicationTest, ABranchThatCannotMoveLeavesTheDocumentAsItWas) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "one\n", "first", At(1000)).ok());
  ASSERT_TRUE(Git(repo_, "branch other"));
  // What the index holds (not its bytes: git status refreshes its stat data).
  const std::string index_before = GitOutput(repo_, "ls-files --stage");
  struct Case {
    std::string during;  // a git command that runs between the checks and the branch's move
    std::string expected;
  };
  for (const Case& c : {Case{"git -C '" + repo_ + "' commit-tree -p HEAD -m x HEAD^{tree} | " +
                                 "xargs git -C '" + repo_ + "' update-ref refs/heads/main",
                             "moved while the snapshot was being committed"},
                        Case{"touch '" + repo_ + "/.git/refs/heads/main.lock'",
                             "a git command is running"}}) {
    auto taken = git->CommitFile(kDocument, "two\n", "second", At(2000), [&] {
      EXPECT_EQ(std::system(("GIT_AUTHOR_NAME=u GIT_AUTHOR_EMAIL=u@x GIT_COMMITTER_NAME=u "
                             "GIT_COMMITTER_EMAIL=u@x " + c.during).c_str()),
                0);
      return OkStatus();
    });
    ASSERT_FALSE(taken.ok()) << c.during;
    EXPECT_EQ(taken.error().category(), ErrorCategory::kConflict);
    EXPECT_NE(taken.error().message().find(c.expected), std::string::npos)
        << taken.error().message();
    EXPECT_EQ(ReadText(repo_ + "/" + kDocument), "one\n");
    EXPECT_EQ(GitOutput(repo_, "show :config/recovery.json"), "one\n");
    EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "");
    EXPECT_FALSE(std::filesystem::exists(repo_ + "/.git/index.lock"));
    std::filesystem::remove(repo_ + "/.git/refs/heads/main.lock");
  }
  EXPECT_EQ(GitOutput(repo_, "ls-files --stage"), index_before);
  EXPECT_TRUE(git->CommitFile(kDocument, "two\n", "second", At(2000)).ok());
}

TEST_F(GitApplicationTest, AFilterAttributeOnTheDocumentRefusesTheCapture) {
  auto git = Open();
  ASSERT_NE(git, nullptr);
  ASSERT_TRUE(git->CommitFile(kDocument, "one\n", "first", At(1000)).ok());
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  for (const std::string attributes :
       {"config/recovery.json filter=git-crypt diff=git-crypt\n",
        "*.json filter=lfs diff=lfs merge=lfs -text\n", "config/** filter\n"}) {
    WriteText(repo_ + "/.gitattributes", attributes);  // not committed: git applies it all the same
    auto taken = git->CommitFile(kDocument, "secret\n", "second", At(2000));
    ASSERT_FALSE(taken.ok()) << attributes;
    EXPECT_EQ(taken.error().category(), ErrorCategory::kValidation);
    EXPECT_NE(taken.error().message().find("has the git attribute filter="), std::string::npos)
        << taken.error().message();
    EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
    EXPECT_EQ(ReadText(repo_ + "/" + kDocument), "one\n");
  }
  WriteText(repo_ + "/.gitattributes",
            "*.json filter=lfs diff=lfs merge=lfs -text\nconfig/recovery.json -filter\n");
  auto exempt = git->CommitFile(kDocument, "two\n", "second", At(2000));
  ASSERT_TRUE(exempt.ok()) << exempt.error().message();
}

TEST_F(GitApplicationTest, ASymlinkedDirectoryIsRefusedAndNothingIsWrittenOutside) {
  const std::string outside = dir_.Path("etc-app");
  std::filesystem::create_directories(outside);
  std::filesystem::create_directory_symlink(outside, repo_ + "/config");  // config -> /etc/app
  auto git = Open();
  ASSERT_NE(git, nullptr);
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  auto taken = git->CommitFile(kDocument, "one\n", "first", At(1000));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(taken.error().message().find(repo_ + "/config is a symbolic link"), std::string::npos)
      << taken.error().message();
  EXPECT_FALSE(std::filesystem::exists(outside + "/recovery.json"));
  EXPECT_TRUE(std::filesystem::is_empty(outside));
  EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
}

TEST_F(GitApplicationTest, ACommittedSymlinkAtTheDocumentPathIsRefused) {
  std::filesystem::create_directories(repo_ + "/config");
  std::filesystem::create_symlink("../README", repo_ + "/" + kDocument);
  ASSERT_TRUE(Git(repo_, "add config/recovery.json"));
  ASSERT_TRUE(Git(repo_, "commit -q -m 'document is a link'"));
  auto git = Open();
  ASSERT_NE(git, nullptr);
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  auto taken = git->CommitFile(kDocument, "one\n", "first", At(1000));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(taken.error().message().find("committed in " + repo_ + " as a symbolic link"),
            std::string::npos)
      << taken.error().message();
  EXPECT_TRUE(std::filesystem::is_symlink(repo_ + "/" + kDocument));
  EXPECT_EQ(ReadText(repo_ + "/README"), "the app\n");
  EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
}

TEST_F(GitApplicationTest, TheMissingDirectoriesOfTheDocumentPathAreCreated) {
  auto deeper = GitStore::Open(repo_, {.document_path = "state/deep/recovery.json"});
  ASSERT_TRUE(deeper.ok());
  auto made = (*deeper)->CommitFile("state/deep/recovery.json", "x\n", "m", At(2000));
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_EQ(ReadText(repo_ + "/state/deep/recovery.json"), "x\n");
  EXPECT_EQ(GitOutput(repo_, "status --porcelain"), "");
}

TEST_F(GitApplicationTest, ADetachedHeadIsRefused) {
  ASSERT_TRUE(Git(repo_, "checkout -q --detach"));
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto taken = git->CommitFile(kDocument, "x\n", "m", At(1));
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message().find("detached"), std::string::npos);
}

TEST_F(GitApplicationTest, AnUnbornBranchIsRefused) {
  ASSERT_TRUE(Git(repo_, "checkout -q --orphan fresh"));
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto taken = git->CommitFile(kDocument, "x\n", "m", At(1));
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message().find("no commit yet"), std::string::npos);
}

TEST_F(GitApplicationTest, AConflictingMergeInProgressIsRefusedAndLeftAlone) {
  ASSERT_TRUE(Git(repo_, "checkout -q -b other"));
  WriteText(repo_ + "/README", "other\n");
  ASSERT_TRUE(Git(repo_, "commit -q -am other"));
  ASSERT_TRUE(Git(repo_, "checkout -q main"));
  WriteText(repo_ + "/README", "mine\n");
  ASSERT_TRUE(Git(repo_, "commit -q -am mine"));
  ASSERT_FALSE(Git(repo_, "merge other"));  // conflicts: the merge stays in progress
  const std::string head = GitOutput(repo_, "rev-parse HEAD");
  auto git = Open();
  ASSERT_NE(git, nullptr);
  auto taken = git->CommitFile(kDocument, "x\n", "m", At(1));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kConflict);
  EXPECT_NE(taken.error().message().find("in progress"), std::string::npos);
  EXPECT_EQ(GitOutput(repo_, "rev-parse HEAD"), head);
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/" + kDocument));
}

TEST_F(GitApplicationTest, AMissingOrBareRepositoryOrABadPathIsAClearError) {
  auto missing = GitStore::Open(dir_.Path("nowhere"), {.document_path = kDocument});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().category(), ErrorCategory::kNotFound);
  EXPECT_NE(missing.error().message().find("no git repository"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_.Path("nowhere")));

  ASSERT_TRUE(Git(dir_.path(), "init -q --bare bare.git"));
  auto bare = GitStore::Open(dir_.Path("bare.git"), {.document_path = kDocument});
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message().find("bare"), std::string::npos);

  for (const std::string bad : {"/abs.json", "../x.json", "a//b", ".git/x", "config/"}) {
    auto opened = GitStore::Open(repo_, {.document_path = bad});
    ASSERT_FALSE(opened.ok()) << bad;
    EXPECT_EQ(opened.error().category(), ErrorCategory::kValidation) << bad;
  }
  // Without document_path a work tree is not turned into a bare repository of rebound's.
  auto own = GitStore::Open(repo_);
  ASSERT_FALSE(own.ok());
  EXPECT_NE(own.error().message().find("document_path"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(repo_ + "/HEAD"));
}

}  // namespace
}  // namespace rebound::snapshot
