#include "snapshot/snapshotter.h"

#include <gtest/gtest.h>

#include "base/atomic_file.h"
#include "base/manual_clock.h"
#include "git_test_util.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::Store::OpenInMemory(clock_));
    git_ = std::move(*GitStore::Open(dir_.Path("snapshots")));
    snapshots_ = std::make_unique<Snapshotter>(
        *git_, store_->states(), DefaultFileSystem(), clock_,
        SnapshotterOptions{.document_path = dir_.Path("recovery.json")});
  }
  store::ModuleState Put(const std::string& module, nlohmann::json doc) {
    auto current = store_->states().Get(module);
    auto put = store_->states().Put(module, std::move(doc), std::nullopt).get();
    EXPECT_TRUE(put.ok());
    return put.value_or({});
  }
  std::string Capture(const std::string& message) {
    auto taken = snapshots_->Capture({{"api", {.state = "running"}}}, "daemon", message);
    EXPECT_TRUE(taken.ok()) << taken.error().message();
    clock_.AdvanceBy(std::chrono::seconds(5));
    return taken.ok() ? taken->commit : "";
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<GitStore> git_;
  std::unique_ptr<Snapshotter> snapshots_;
};

TEST_F(SnapshotterTest, CaptureCommitsARedactedDocumentAndWritesItsChecksummedCopy) {
  Put("llm", {{"model", "gpt-4"}, {"api_key", "sk-live"}});
  auto taken = snapshots_->Capture({{"api", {.state = "running", .restarts = 1}}}, "daemon", "m");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_EQ(taken->redacted_values, 1);
  auto committed = git_->ReadFile(taken->commit, "recovery.json");
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(committed->find("sk-live"), std::string::npos);
  EXPECT_EQ(*ReadChecksummedFile(DefaultFileSystem(), dir_.Path("recovery.json")), *committed);
  auto document = ParseRecoveryDocument(*committed);
  ASSERT_TRUE(document.ok());
  EXPECT_EQ(document->module_states["llm"]["model"], "gpt-4");
  EXPECT_EQ(document->services["api"].restarts, 1);
  EXPECT_EQ(document->parent_commit, "");
  EXPECT_EQ(static_cast<size_t>(taken->size_bytes), committed->size());
}

TEST_F(SnapshotterTest, ADamagedStoredStateIsACorruptionErrorAndNothingIsCommitted) {
  Put("llm", {{"model", "gpt-4"}});
  // Brackets and strings balance, so only a JSON check tells it apart from a good row.
  Status damaged = store_->database().Read([](store::SqliteConnection& db) {
    return db.Exec(R"(UPDATE module_state SET document = '{"model":"gpt-4","n":tru}')");
  });
  ASSERT_TRUE(damaged.ok()) << damaged.error().message();
  auto taken = snapshots_->Capture({}, "daemon", "m");
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kCorruption);
  EXPECT_NE(taken.error().message().find("'llm'"), std::string::npos) << taken.error().message();
  EXPECT_FALSE(git_->Head()->has_value());
}

TEST_F(SnapshotterTest, EachCaptureRecordsItsParent) {
  const std::string first = Capture("one");
  const std::string second = Capture("two");
  auto document = ParseRecoveryDocument(*git_->ReadFile(second, "recovery.json"));
  EXPECT_EQ(document->parent_commit, first);
  auto list = snapshots_->List();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].commit.message, "two");
  EXPECT_GT((*list)[0].size_bytes, 0);
}

TEST_F(SnapshotterTest, RecoversModuleStatesByTagCommitAndTimeKeepingLiveSecrets) {
  Put("llm", {{"model", "gpt-3"}, {"token", "live-1"}});
  const WallTime before = clock_.WallNow();
  const std::string old_commit = Capture("old");
  ASSERT_TRUE(snapshots_->Tag(old_commit, "good").ok());
  Put("llm", {{"model", "gpt-4"}, {"token", "live-2"}});
  Capture("new");
  for (const SnapshotSelector& selector :
       {SnapshotSelector{.tag = "good"}, SnapshotSelector{.commit = old_commit.substr(0, 8)},
        SnapshotSelector{.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      before.time_since_epoch())
                                      .count() +
                                  1000}}) {
    Put("llm", {{"model", "gpt-4"}, {"token", "live-2"}});
    auto plan = snapshots_->Plan(selector, {});
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    EXPECT_EQ(plan->commit, old_commit);
    EXPECT_EQ(plan->message, "old");
    ASSERT_TRUE(snapshots_->RestoreModules(*plan).ok());
    auto now = store_->states().Get("llm");
    EXPECT_EQ(now->document["model"], "gpt-3");
    EXPECT_EQ(now->document["token"], "live-2");
  }
}

TEST_F(SnapshotterTest, RestoreIsACompareAndSetAgainstThePlan) {
  Put("llm", {{"model", "gpt-3"}});
  Capture("old");
  Put("llm", {{"model", "gpt-4"}});
  auto plan = snapshots_->Plan({}, {});
  ASSERT_TRUE(plan.ok());
  Put("llm", {{"model", "gpt-5"}});  // a writer in between
  RestoreReport restored = snapshots_->RestoreModules(*plan);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.failed->error.category(), ErrorCategory::kConflict);
  EXPECT_EQ(restored.failed->step, "store");
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "gpt-5");
}

TEST_F(SnapshotterTest, PlanningWithoutSnapshotsOrWithTwoSelectorsFailsClearly) {
  auto none = snapshots_->Plan({}, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("rebound capture"), std::string::npos);
  Capture("one");
  EXPECT_EQ(snapshots_->Plan({.commit = "abc", .tag = "x"}, {}).error().category(),
            ErrorCategory::kValidation);
  EXPECT_EQ(snapshots_->Plan({.tag = "missing"}, {}).error().category(), ErrorCategory::kNotFound);
}

TEST_F(SnapshotterTest, AFutureSchemaVersionInTheRepositoryIsRefused) {
  nlohmann::json doc = nlohmann::json::parse(*git_->ReadFile(Capture("one"), "recovery.json"));
  doc["schema_version"] = 99;
  ASSERT_TRUE(
      git_->CommitFile("recovery.json", doc.dump(), "from the future", clock_.WallNow()).ok());
  auto plan = snapshots_->Plan({}, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("upgrade rebound"), std::string::npos);
}

}  // namespace
}  // namespace rebound::snapshot
