#include "engine/snapshot_service.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "jobs/job_store.h"
#include "testing/fake_endpoint_transport.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

class SnapshotServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.daemon.data_dir = dir_.path();
    config_.start_order = {"db", "api"};  // api depends on db
    store_ = std::move(*store::Store::OpenInMemory(clock_));
    services_.AddService({.name = "api", .state = "running", .restarts = 2});
    services_.AddService({.name = "db", .state = "running"});
    Reopen();
  }
  void Reopen() {
    service_.reset();
    auto opened = SnapshotService::Open(config_, *store_, &services_, clock_, &transport_);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    service_ = std::move(*opened);
  }
  void Put(const std::string& module, nlohmann::json document) {
    ASSERT_TRUE(store_->states().Put(module, std::move(document), std::nullopt).get().ok());
  }

  testing::TempDir dir_;
  ManualClock clock_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  testing::FakeServiceController services_;
  testing::FakeEndpointTransport transport_;
  std::unique_ptr<SnapshotService> service_;
};

TEST_F(SnapshotServiceTest, CaptureRecordsServiceStatusAndJournalsIt) {
  auto taken = service_->CaptureSnapshot("first");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  auto text = service_->git().ReadFile((*taken)["commit"], "recovery.json");
  auto document = snapshot::ParseRecoveryDocument(*text);
  EXPECT_EQ(document->services["api"].restarts, 2);
  EXPECT_EQ(document->captured_by, "daemon");
  auto events = store_->journal().Query({.category = "snapshot"});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "captured");
}

TEST_F(SnapshotServiceTest, CaptureRecordsJobCountsAndQueueBacklogs) {
  config_.queues = {{.name = "mail"}, {.name = "reports"}};
  service_ = std::move(*SnapshotService::Open(config_, *store_, &services_, clock_));
  jobs::JobStore jobs(store_->database(), store_->writer(), nullptr, clock_);
  auto first = jobs.Submit({.command = {"true"}, .queue = "mail"});
  ASSERT_TRUE(jobs.Submit({.command = {"true"}, .queue = "mail"}).ok());
  ASSERT_TRUE(first.ok());
  first->job.state = jobs::JobState::kRunning;
  ASSERT_TRUE(jobs.Save(first->job).get().ok());

  auto taken = service_->CaptureSnapshot("with jobs");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  auto document = snapshot::ParseRecoveryDocument(
      *service_->git().ReadFile((*taken)["commit"], "recovery.json"));
  ASSERT_TRUE(document.ok() && document->jobs.has_value());
  EXPECT_EQ(document->jobs->by_state["queued"], 1);
  EXPECT_EQ(document->jobs->by_state["running"], 1);
  EXPECT_EQ(document->jobs->by_state["succeeded"], 0);
  EXPECT_EQ(document->jobs->queues["mail"],
            (std::map<std::string, int64_t>{{"queued", 1}, {"running", 1}, {"retrying", 0}}));
  // Configured queues show even when empty, the default queue included.
  EXPECT_EQ(document->jobs->queues["reports"]["queued"], 0);
  EXPECT_TRUE(document->jobs->queues.contains("default"));
}

TEST_F(SnapshotServiceTest, DryRunChangesNothing) {
  Put("llm", {{"model", "a"}});
  auto taken = service_->CaptureSnapshot("good");
  Put("llm", {{"model", "b"}});
  ASSERT_TRUE(services_.StopService("api").ok());
  auto plan = service_->RecoverSnapshot({.dry_run = true});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ((*plan)["plan"]["modules"][0]["action"], "restore");
  EXPECT_FALSE(plan->contains("pre_recovery_commit"));
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "b");
  EXPECT_EQ(services_.calls(), std::vector<std::string>{"stop api"});
  EXPECT_EQ((*service_->ListSnapshots())["snapshots"].size(), 1u);
}

TEST_F(SnapshotServiceTest, RecoverCapturesFirstRestoresModulesAndStartsStoppedServices) {
  Put("llm", {{"model", "a"}});
  const std::string good = (*service_->CaptureSnapshot("good"))["commit"];
  Put("llm", {{"model", "b"}});
  ASSERT_TRUE(services_.StopService("api").ok());
  auto recovered = service_->RecoverSnapshot({.selector = {.commit = good}});
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "a");
  EXPECT_EQ(services_.calls(), (std::vector<std::string>{"stop api", "start api"}));
  EXPECT_EQ((*recovered)["started"][0]["ok"], true);
  // The state before the recovery is the newest snapshot, and it holds model "b".
  const std::string before = (*recovered)["pre_recovery_commit"];
  EXPECT_EQ((*service_->ListSnapshots())["snapshots"][0]["commit"], before);
  auto text = service_->git().ReadFile(before, "recovery.json");
  EXPECT_EQ(snapshot::ParseRecoveryDocument(*text)->module_states["llm"]["model"], "b");
}

TEST_F(SnapshotServiceTest, ServicesStartDependenciesFirst) {
  service_->CaptureSnapshot("good").value();
  ASSERT_TRUE(services_.StopService("api").ok());
  ASSERT_TRUE(services_.StopService("db").ok());
  ASSERT_TRUE(service_->RecoverSnapshot({}).ok());
  EXPECT_EQ(services_.calls(),
            (std::vector<std::string>{"stop api", "stop db", "start db", "start api"}));
}

TEST_F(SnapshotServiceTest, AServiceThatFailsToStartIsReportedNotHidden) {
  service_->CaptureSnapshot("good").value();
  ASSERT_TRUE(services_.StopService("db").ok());
  services_.FailNextCall(ConflictError("db is stopping"));
  auto recovered = service_->RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ((*recovered)["started"][0]["ok"], false);
  EXPECT_EQ((*recovered)["started"][0]["error"], "db is stopping");
}

TEST_F(SnapshotServiceTest, AFailedRestoreTargetStopsTheRecoveryAndReportsWhatWasNotDone) {
  config_.snapshots.modules["llm"].restore =
      snapshot::ModuleEndpoint{.kind = snapshot::EndpointKind::kUrl, .location = "http://llm/s"};
  Reopen();
  Put("llm", {{"model", "a"}});
  service_->CaptureSnapshot("good").value();
  ASSERT_TRUE(services_.StopService("api").ok());
  transport_.Fail("url http://llm/s", NetworkError("PUT failed: Connection"));
  auto recovered = service_->RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ((*recovered)["ok"], false);
  EXPECT_EQ((*recovered)["modules"]["failed"]["module"], "llm");
  EXPECT_EQ((*recovered)["modules"]["failed"]["step"], "target");
  EXPECT_EQ((*recovered)["services_not_started"], nlohmann::json::array({"api"}));
  EXPECT_EQ(services_.calls(), std::vector<std::string>{"stop api"});  // api not started
  auto events = store_->journal().Query({.category = "snapshot", .kind = "recovery_failed"});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].data["modules"]["failed"]["message"],
            "url http://llm/s: PUT failed: Connection");
}

TEST_F(SnapshotServiceTest, ARequiredSourceFailingIsJournaledAndDoesNotBlockARecovery) {
  config_.snapshots.modules["llm"] = {
      .source = snapshot::ModuleEndpoint{.kind = snapshot::EndpointKind::kUrl,
                                         .location = "http://llm/s"},
      .required = true};
  Reopen();
  transport_.SetBody("url http://llm/s", R"({"model": "a"})");
  service_->CaptureSnapshot("good").value();
  transport_.Fail("url http://llm/s", NetworkError("GET failed: Connection"));
  auto refused = service_->CaptureSnapshot("while down");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("required module llm"), std::string::npos);
  auto recovered = service_->RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ((*recovered)["ok"], true);
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "a");
  auto failed = store_->journal().Query({.category = "snapshot", .kind = "capture_failed"});
  ASSERT_EQ(failed->size(), 1u);
}

TEST_F(SnapshotServiceTest, RecoveryWaitsForStartedServicesToBeHealthyAndReportsThoseThatAreNot) {
  config_.snapshots.verify_timeout = std::chrono::seconds(10);
  Reopen();
  std::vector<nlohmann::json> notified;
  service_->SetNotifier([&](const nlohmann::json& outcome) { notified.push_back(outcome); });
  service_->CaptureSnapshot("good").value();
  services_.AddService({.name = "api", .state = "stopped", .health = "unhealthy"});
  services_.AddService({.name = "db", .state = "stopped", .health = "healthy"});
  const auto before = clock_.MonotonicNow();
  auto recovered = service_->RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ((*recovered)["ok"], false);
  ASSERT_EQ((*recovered)["verified"].size(), 2u);
  EXPECT_EQ((*recovered)["verified"][0]["name"], "db");
  EXPECT_EQ((*recovered)["verified"][0]["healthy"], true);
  EXPECT_EQ((*recovered)["verified"][1]["name"], "api");
  EXPECT_EQ((*recovered)["verified"][1]["health"], "unhealthy");
  EXPECT_EQ((*recovered)["verified"][1]["healthy"], false);
  EXPECT_GE(clock_.MonotonicNow() - before, std::chrono::seconds(10));  // it waited, bounded
  auto events = store_->journal().Query({.category = "snapshot", .kind = "recovery_failed"});
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].data["verified"][1]["healthy"], false);
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(notified[0]["event"], "snapshot.recovery_failed");
  EXPECT_EQ(notified[0]["ok"], false);
}

TEST_F(SnapshotServiceTest, AHealthyRecoveryIsJournaledAsRecoveredAndNotified) {
  Reopen();
  std::vector<nlohmann::json> notified;
  service_->SetNotifier([&](const nlohmann::json& outcome) { notified.push_back(outcome); });
  service_->CaptureSnapshot("good").value();
  ASSERT_TRUE(services_.StopService("api").ok());
  const auto before = clock_.MonotonicNow();
  auto recovered = service_->RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ((*recovered)["ok"], true);
  EXPECT_EQ((*recovered)["verified"][0]["healthy"], true);  // no probe: running is enough
  EXPECT_EQ(clock_.MonotonicNow(), before);                  // nothing to wait for
  auto events = store_->journal().Query({.category = "snapshot", .kind = "recovered"});
  ASSERT_EQ(events->size(), 1u);
  ASSERT_EQ(notified.size(), 1u);
  EXPECT_EQ(notified[0]["event"], "snapshot.recovered");
}

TEST_F(SnapshotServiceTest, RestoreModuleRestoresOneModuleFromTheNewestSnapshotToStoreAndTarget) {
  config_.snapshots.modules["llm"].restore =
      snapshot::ModuleEndpoint{.kind = snapshot::EndpointKind::kUrl, .location = "http://llm/s"};
  Reopen();
  Put("llm", {{"model", "a"}});
  Put("other", {{"v", 1}});
  service_->CaptureSnapshot("good").value();
  Put("llm", {{"model", "b"}});
  Put("other", {{"v", 2}});
  ASSERT_TRUE(service_->RestoreModule("llm").ok());
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "a");
  EXPECT_EQ(store_->states().Get("other")->document["v"], 2);
  ASSERT_EQ(transport_.writes().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(transport_.writes()[0].body)["model"], "a");
  auto events = store_->journal().Query({.category = "snapshot", .kind = "module_restored"});
  ASSERT_EQ(events->size(), 1u);
  Status missing = service_->RestoreModule("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().category(), ErrorCategory::kNotFound);
  EXPECT_NE(missing.error().message().find("has no state for it"), std::string::npos);
}

// The capture before a recovery (and any on-event capture) records the failed state: restoring
// "the newest snapshot" would then put back exactly what broke. The action restores from the
// newest snapshot taken at or before the failure instead.
TEST_F(SnapshotServiceTest, RestoreModulePassesOverSnapshotsTakenSinceTheFailure) {
  Put("llm", {{"model", "good"}});
  service_->CaptureSnapshot("scheduled").value();
  clock_.AdvanceBy(std::chrono::minutes(1));
  Put("llm", {{"model", "corrupt"}});
  const WallTime failed_at = clock_.WallNow();
  clock_.AdvanceBy(std::chrono::seconds(1));
  service_->CaptureSnapshot("before recovery of llm").value();
  ASSERT_TRUE(service_->RestoreModule("llm", failed_at).ok());
  EXPECT_EQ(store_->states().Get("llm")->document["model"], "good");

  Status none = service_->RestoreModule("llm", failed_at - std::chrono::hours(1));
  ASSERT_FALSE(none.ok());
}

}  // namespace
}  // namespace rebound::engine
