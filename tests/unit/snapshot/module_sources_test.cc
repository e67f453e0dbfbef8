// Module sources pulled at capture and restore targets pushed on recovery (Snapshotter with
// a FakeEndpointTransport).

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"
#include "testing/fake_endpoint_transport.h"
#include "testing/temp_dir.h"

namespace rebound::snapshot {
namespace {

ModuleEndpoint Url(const std::string& url) {
  return {.kind = EndpointKind::kUrl, .location = url};
}

class ModuleSourcesTest : public ::testing::Test {
 protected:
  void Open(std::map<std::string, ModuleBinding> modules) {
    store_ = std::move(*store::Store::OpenInMemory(clock_));
    git_ = std::move(*GitStore::Open(dir_.Path("snapshots")));
    snapshots_ = std::make_unique<Snapshotter>(
        *git_, store_->states(), DefaultFileSystem(), clock_,
        SnapshotterOptions{.document_path = dir_.Path("recovery.json"),
                           .modules = std::move(modules),
                           .transport = &transport_});
  }
  void Put(const std::string& module, nlohmann::json doc) {
    ASSERT_TRUE(store_->states().Put(module, std::move(doc), std::nullopt).get().ok());
  }
  RecoveryDocument Committed(const std::string& commit) {
    return *ParseRecoveryDocument(*git_->ReadFile(commit, "recovery.json"));
  }

  testing::TempDir dir_;
  ManualClock clock_;
  testing::FakeEndpointTransport transport_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<GitStore> git_;
  std::unique_ptr<Snapshotter> snapshots_;
};

TEST_F(ModuleSourcesTest, APulledStateWinsOverThePushedOneAndIsRedacted) {
  Open({{"llm", {.source = Url("http://app/state")}}});
  Put("llm", {{"model", "pushed"}});
  transport_.SetBody("url http://app/state", R"({"model": "pulled", "api_key": "sk-live"})");
  auto taken = snapshots_->Capture({}, "daemon", "m");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_EQ(taken->redacted_values, 1);
  RecoveryDocument document = Committed(taken->commit);
  EXPECT_EQ(document.module_states["llm"]["model"], "pulled");
  EXPECT_EQ(document.module_states["llm"]["api_key"], "[REDACTED]");
  EXPECT_EQ(document.module_sources["llm"],
            (SourceOutcome{.source = "url http://app/state", .pulled = true}));
  EXPECT_EQ(git_->ReadFile(taken->commit, "recovery.json")->find("sk-live"), std::string::npos);
}

TEST_F(ModuleSourcesTest, AFailingSourceIsRecordedAndTheCaptureKeepsThePushedState) {
  Open({{"llm", {.source = Url("http://app/state")}},
        {"cache", {.source = ModuleEndpoint{.kind = EndpointKind::kFile, .location = "/s.json"}}}});
  Put("llm", {{"model", "pushed"}});
  transport_.Fail("url http://app/state", TimeoutError("GET gave no answer within 2s"));
  transport_.SetBody("file /s.json", "not json{");
  auto taken = snapshots_->Capture({}, "daemon", "m");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  RecoveryDocument document = Committed(taken->commit);
  EXPECT_EQ(document.module_states["llm"]["model"], "pushed");
  EXPECT_FALSE(document.module_sources["llm"].pulled);
  EXPECT_EQ(document.module_sources["llm"].error,
            "url http://app/state: GET gave no answer within 2s");
  EXPECT_FALSE(document.module_states.contains("cache"));
  EXPECT_NE(document.module_sources["cache"].error.find("not valid JSON"), std::string::npos);
}

TEST_F(ModuleSourcesTest, ARequiredSourceThatFailsFailsTheCaptureAndCommitsNothing) {
  Open({{"llm", {.source = Url("http://app/state"), .required = true}}});
  transport_.Fail("url http://app/state", NetworkError("GET failed: Connection"));
  auto taken = snapshots_->Capture({}, "daemon", "m");
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().category(), ErrorCategory::kNetwork);
  EXPECT_EQ(taken.error().message(),
            "capture: required module llm: source url http://app/state: GET failed: Connection; "
            "nothing was committed");
  EXPECT_FALSE(git_->Head()->has_value());
  EXPECT_FALSE(DefaultFileSystem().Exists(dir_.Path("recovery.json")));
  // The capture a recovery takes first does not enforce it: it records the failure.
  auto unenforced = snapshots_->Capture({}, "daemon", "before", /*enforce_required=*/false);
  ASSERT_TRUE(unenforced.ok());
  EXPECT_FALSE(Committed(unenforced->commit).module_sources["llm"].pulled);
}

TEST_F(ModuleSourcesTest, RecoveryPushesEachModuleToItsTargetEvenWhenTheStoreIsUnchanged) {
  Open({{"llm", {.restore = Url("http://app/state")}}});
  Put("llm", {{"model", "a"}});
  ASSERT_TRUE(snapshots_->Capture({}, "daemon", "good").ok());
  auto plan = snapshots_->Plan({}, {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->modules[0].action, "unchanged");
  EXPECT_EQ(plan->modules[0].restore_target, "url http://app/state");
  EXPECT_EQ(RecoveryPlanToJson(*plan)["modules"][0]["restore_target"], "url http://app/state");
  RestoreReport report = snapshots_->RestoreModules(*plan);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(transport_.writes().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(transport_.writes()[0].body), (nlohmann::json{{"model", "a"}}));
}

TEST_F(ModuleSourcesTest, AFailedTargetStopsTheSequenceAndSaysWhatWasAndWasNotRestored) {
  Open({{"a", {.restore = Url("http://a/state")}},
        {"b", {.restore = Url("http://b/state")}},
        {"c", {.restore = Url("http://c/state")}}});
  Put("a", {{"v", 1}});
  Put("b", {{"v", 1}});
  Put("c", {{"v", 1}});
  ASSERT_TRUE(snapshots_->Capture({}, "daemon", "good").ok());
  Put("a", {{"v", 2}});
  Put("b", {{"v", 2}});
  Put("c", {{"v", 2}});
  transport_.Fail("url http://b/state", ValidationError("PUT answered HTTP 400"));
  auto plan = snapshots_->Plan({}, {});
  ASSERT_TRUE(plan.ok());
  RestoreReport report = snapshots_->RestoreModules(*plan);
  ASSERT_FALSE(report.ok());
  ASSERT_EQ(report.restored.size(), 1u);
  EXPECT_EQ(report.restored[0].module, "a");
  EXPECT_EQ(report.failed->module, "b");
  EXPECT_EQ(report.failed->step, "target");
  EXPECT_EQ(report.failed->error.message(), "url http://b/state: PUT answered HTTP 400");
  EXPECT_EQ(report.not_restored, std::vector<std::string>{"c"});
  // b's store write happened before its push failed; c was not touched at all.
  EXPECT_EQ(store_->states().Get("b")->document["v"], 1);
  EXPECT_EQ(store_->states().Get("c")->document["v"], 2);
  nlohmann::json json = RestoreReportToJson(report);
  EXPECT_EQ(json["failed"]["code"], "validation");
  EXPECT_EQ(json["restored"][0]["target"], "url http://a/state");
}

TEST_F(ModuleSourcesTest, RestoringOneModuleLeavesTheOthersAlone) {
  Open({{"a", {.restore = Url("http://a/state")}}, {"b", {.restore = Url("http://b/state")}}});
  Put("a", {{"v", 1}});
  Put("b", {{"v", 1}});
  ASSERT_TRUE(snapshots_->Capture({}, "daemon", "good").ok());
  Put("a", {{"v", 2}});
  Put("b", {{"v", 2}});
  RestoreReport report = snapshots_->RestoreModules(*snapshots_->Plan({}, {}), "b");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(store_->states().Get("a")->document["v"], 2);
  EXPECT_EQ(store_->states().Get("b")->document["v"], 1);
  ASSERT_EQ(transport_.writes().size(), 1u);
  EXPECT_EQ(transport_.writes()[0].endpoint, "url http://b/state");
}

// Descriptions end up in snapshots, events and errors: never a URL's credentials, query or a
// command's arguments.
TEST(DescribeEndpointTest, LeavesOutWhatMayCarryASecret) {
  EXPECT_EQ(DescribeEndpoint(Url("http://app:8080/state")), "url http://app:8080/state");
  EXPECT_EQ(DescribeEndpoint(Url("https://u:pw@app/state?token=t")), "url https://…@app/state?…");
  EXPECT_EQ(DescribeEndpoint({.kind = EndpointKind::kCommand,
                              .command = {"redis-cli", "-a", "hunter2", "GET", "state"}}),
            "command redis-cli …");
  EXPECT_EQ(DescribeEndpoint({.kind = EndpointKind::kCommand, .command = {"./dump"}}),
            "command ./dump");
}

// A pulled state's secrets are stored as "[REDACTED]" and the store has no value to put back:
// the restore target gets the application's live secret (read from its source), never the
// marker; with no live value, nothing is written anywhere.
TEST_F(ModuleSourcesTest, ARestoreTargetNeverReceivesTheRedactionMarker) {
  Open({{"llm", {.source = Url("http://app/state"), .restore = Url("http://app/state")}}});
  transport_.SetBody("url http://app/state", R"({"model": "a", "api_key": "sk-live"})");
  ASSERT_TRUE(snapshots_->Capture({}, "daemon", "m").ok());
  transport_.SetBody("url http://app/state", R"({"model": "b", "api_key": "sk-rotated"})");
  RestoreReport restored = snapshots_->RestoreModules(*snapshots_->Plan({}, {}));
  ASSERT_TRUE(restored.ok()) << RestoreReportToJson(restored).dump();
  ASSERT_EQ(transport_.writes().size(), 1u);
  const auto sent = nlohmann::json::parse(transport_.writes()[0].body);
  EXPECT_EQ(sent["model"], "a");
  EXPECT_EQ(sent["api_key"], "sk-rotated");
  EXPECT_EQ(store_->states().Get("llm")->document["api_key"], "sk-rotated");  // not the marker

  transport_.Fail("url http://app/state", NetworkError("GET failed: Connection"));
  Open({{"llm", {.source = Url("http://app/state"), .restore = Url("http://app/state")}}});
  RestoreReport refused = snapshots_->RestoreModules(*snapshots_->Plan({}, {}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.failed->step, "target");
  EXPECT_NE(refused.failed->error.message().find("redacted"), std::string::npos);
  EXPECT_EQ(transport_.writes().size(), 1u);  // nothing more was sent
  EXPECT_FALSE(store_->states().Get("llm").ok());
}

}  // namespace
}  // namespace rebound::snapshot
