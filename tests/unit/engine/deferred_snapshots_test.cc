#include "engine/deferred_snapshots.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>

#include "base/manual_clock.h"
#include "jobs/job_counts.h"
#include "snapshot/recovery_document.h"
#include "testing/fake_endpoint_transport.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

class DeferredSnapshotsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.daemon.data_dir = dir_.path();
    store_ = std::move(*store::Store::OpenInMemory(clock_));
  }
  // What the daemon hands DeferredSnapshots: SnapshotService::Open on this data directory.
  DeferredSnapshots::Opener RealOpener() {
    return
        [this] { return SnapshotService::Open(config_, *store_, &services_, clock_, &transport_); };
  }
  // The snapshot repository's path taken by a plain file: libgit2 cannot open or create it.
  void BreakRepository() { std::ofstream(dir_.Path("snapshots")) << "not a repository"; }

  testing::TempDir dir_;
  ManualClock clock_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  testing::FakeServiceController services_;
  testing::FakeEndpointTransport transport_;
};

TEST_F(DeferredSnapshotsTest, CallsWaitForTheOpenThenReachTheRepository) {
  DeferredSnapshots snapshots(RealOpener());
  EXPECT_EQ(snapshots.HealthComponent()["status"], "opening");
  auto listed = std::async(std::launch::async, [&] { return snapshots.ListSnapshots(); });
  ASSERT_TRUE(snapshots.Open().ok());
  auto list = listed.get();  // was waiting, or came after: either way it sees the repository
  ASSERT_TRUE(list.ok()) << list.error().message();
  EXPECT_TRUE((*list)["snapshots"].empty());
  auto taken = snapshots.CaptureSnapshot("first");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  EXPECT_EQ((*snapshots.ListSnapshots())["snapshots"].size(), 1u);
  EXPECT_EQ(snapshots.HealthComponent()["status"], "available");
  EXPECT_NE(snapshots.Service(), nullptr);
}

TEST_F(DeferredSnapshotsTest, ABrokenRepositoryIsReportedByEveryCallAndOnHealth) {
  BreakRepository();
  DeferredSnapshots snapshots(RealOpener());
  Status opened = snapshots.Open();
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().category(), ErrorCategory::kResource);  // 503 on the routes
  EXPECT_NE(opened.error().message().find(dir_.Path("snapshots")), std::string::npos)
      << opened.error().message();
  auto listed = snapshots.ListSnapshots();
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().message(), opened.error().message());
  EXPECT_FALSE(snapshots.CaptureSnapshot("x").ok());
  EXPECT_FALSE(snapshots.TagSnapshot("HEAD", "t").ok());
  EXPECT_FALSE(snapshots.RecoverSnapshot({.dry_run = true}).ok());
  EXPECT_EQ(snapshots.Service(), nullptr);
  auto ready = snapshots.Ready();  // what the daemon's own captures and restores report
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message(), opened.error().message());
  const nlohmann::json health = snapshots.HealthComponent();
  EXPECT_EQ(health["status"], "unavailable");
  EXPECT_EQ(health["required"], false);
  EXPECT_EQ(health["message"], opened.error().message());
}

TEST_F(DeferredSnapshotsTest, TheOpenerRunsOnceAndLaterOpensReturnItsOutcome) {
  int runs = 0;
  DeferredSnapshots snapshots([&]() -> Result<std::unique_ptr<SnapshotService>> {
    ++runs;
    return CorruptionError("bad object");
  });
  EXPECT_FALSE(snapshots.Open().ok());
  EXPECT_FALSE(snapshots.Open().ok());
  EXPECT_EQ(runs, 1);
}

TEST_F(DeferredSnapshotsTest, AbandonBeforeTheOpenRefusesLaterCallsWithItsReason) {
  DeferredSnapshots snapshots(RealOpener());
  snapshots.Abandon("the daemon stopped");
  auto list = snapshots.ListSnapshots();
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message().find("the daemon stopped"), std::string::npos);
  EXPECT_EQ(snapshots.HealthComponent()["status"], "unavailable");
  EXPECT_FALSE(snapshots.Open().ok());
}

// The daemon queues its Open on the one snapshot worker after the first launches; a capture
// queued there earlier (on_events = ["daemon.started"]) runs first. Waiting for an Open queued
// behind it on the same thread would never end: the call opens the repository itself.
TEST_F(DeferredSnapshotsTest, ACallBeforeTheOpenOpensTheRepositoryItself) {
  DeferredSnapshots snapshots(RealOpener());
  auto taken = std::async(std::launch::async, [&] { return snapshots.CaptureSnapshot("early"); });
  ASSERT_EQ(taken.wait_for(std::chrono::seconds(60)), std::future_status::ready)
      << "the call waited for an Open nobody runs";
  auto capture = taken.get();
  ASSERT_TRUE(capture.ok()) << capture.error().message();
  EXPECT_EQ(snapshots.HealthComponent()["status"], "available");
  EXPECT_TRUE(snapshots.Open().ok());  // the daemon's own Open, later: the same outcome
  EXPECT_EQ((*snapshots.ListSnapshots())["snapshots"].size(), 1u);
}

TEST_F(DeferredSnapshotsTest, AbandonAfterASuccessfulOpenChangesNothing) {
  DeferredSnapshots snapshots(RealOpener());
  ASSERT_TRUE(snapshots.Open().ok());
  snapshots.Abandon("the daemon stopped");
  EXPECT_TRUE(snapshots.ListSnapshots().ok());
}

TEST_F(DeferredSnapshotsTest, ANotifierSetBeforeTheOpenReachesTheService) {
  DeferredSnapshots snapshots(RealOpener());
  std::vector<nlohmann::json> outcomes;
  snapshots.SetNotifier([&](const nlohmann::json& outcome) { outcomes.push_back(outcome); });
  ASSERT_TRUE(snapshots.Open().ok());
  ASSERT_TRUE(snapshots.CaptureSnapshot("good").ok());
  auto recovered = snapshots.RecoverSnapshot({});
  ASSERT_TRUE(recovered.ok()) << recovered.error().message();
  EXPECT_EQ(outcomes.size(), 1u);
}

// The daemon hands over its job store's counts before the repository opens: the capture's
// system_status.jobs must come from them (the jobs table here is empty, the counts are not).
TEST_F(DeferredSnapshotsTest, JobCountsSetBeforeTheOpenReachTheService) {
  DeferredSnapshots snapshots(RealOpener());
  auto counts = std::make_shared<jobs::JobCounts>();
  counts->Reset({.by_state = {{"queued", 7}}, .by_queue = {{"default", {{"queued", 7}}}}});
  snapshots.UseJobCounts(counts);
  ASSERT_TRUE(snapshots.Open().ok());
  auto taken = snapshots.CaptureSnapshot("with counts");
  ASSERT_TRUE(taken.ok()) << taken.error().message();
  auto document = snapshot::ParseRecoveryDocument(
      *snapshots.Service()->git().ReadFile((*taken)["commit"], "recovery.json"));
  ASSERT_TRUE(document.ok() && document->jobs.has_value());
  EXPECT_EQ(document->jobs->by_state["queued"], 7);
}

}  // namespace
}  // namespace rebound::engine
