// SnapshotService's retention, push and remote status (snapshot_maintenance.cc).

#include <gtest/gtest.h>

#include <cstdlib>

#include "base/manual_clock.h"
#include "engine/snapshot_service.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

class SnapshotMaintenanceTest : public ::testing::Test {
 protected:
  void Open(int keep, const std::string& remote = "") {
    config_.daemon.data_dir = dir_.path();
    config_.snapshots.keep = keep;
    config_.snapshots.remote = remote;
    store_ = std::move(*store::Store::OpenInMemory(clock_));
    auto opened = SnapshotService::Open(config_, *store_, &services_, clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    service_ = std::move(*opened);
  }
  nlohmann::json Capture(const std::string& message) {
    auto taken = service_->CaptureSnapshot(message);
    EXPECT_TRUE(taken.ok()) << taken.error().message();
    clock_.AdvanceBy(std::chrono::seconds(10));
    return taken.ok() ? *taken : nlohmann::json();
  }
  std::string BareRemote() {
    const std::string path = dir_.Path("remote.git");
    EXPECT_EQ(std::system(("git init -q --bare '" + path + "'").c_str()), 0);
    return "file://" + path;
  }

  testing::TempDir dir_;
  ManualClock clock_;
  Config config_;
  std::unique_ptr<store::Store> store_;
  testing::FakeServiceController services_;
  std::unique_ptr<SnapshotService> service_;
};

TEST_F(SnapshotMaintenanceTest, EachCaptureAppliesTheConfiguredKeepAndJournalsThePrune) {
  Open(/*keep=*/2);
  Capture("one");
  EXPECT_EQ(Capture("two")["pruned"], 0);
  EXPECT_EQ(Capture("three")["pruned"], 1);
  auto list = service_->ListSnapshots();
  ASSERT_EQ((*list)["snapshots"].size(), 2u);
  EXPECT_EQ((*list)["snapshots"][1]["message"], "two");
  auto events = store_->journal().Query({.category = "snapshot", .kind = "pruned"});
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].data["dropped"], 1);
}

TEST_F(SnapshotMaintenanceTest, PruneOnDemandNeedsACountFromTheCallOrTheConfig) {
  Open(/*keep=*/0);
  Capture("one");
  Capture("two");
  EXPECT_FALSE(Capture("three").contains("pruned"));  // keep 0: nothing pruned after captures
  auto refused = service_->PruneSnapshots(std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().category(), ErrorCategory::kValidation);
  auto pruned = service_->PruneSnapshots(1);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ((*pruned)["kept"], 1);
  EXPECT_EQ((*pruned)["dropped"], 2);
}

TEST_F(SnapshotMaintenanceTest, PushAndStatusWithoutARemoteAreValidationErrors) {
  Open(0);
  Capture("one");
  EXPECT_EQ(service_->PushSnapshots().error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(service_->SnapshotRemoteStatus().error().category(), ErrorCategory::kValidation);
}

TEST_F(SnapshotMaintenanceTest, PushOnDemandStatusAndTagsPushedAtOnce) {
  Open(0, BareRemote());
  EXPECT_EQ(service_->PushSnapshots().error().category(), ErrorCategory::kNotFound);  // none yet
  const nlohmann::json taken = Capture("one");  // pushed by the capture itself
  EXPECT_EQ(taken["pushed"], true);
  ASSERT_TRUE(service_->TagSnapshot(taken["commit"], "known-good").ok());
  const std::string remote_tag = "git -C '" + dir_.Path("remote.git") +
                                 "' rev-parse -q --verify refs/tags/known-good >/dev/null";
  EXPECT_EQ(std::system(remote_tag.c_str()), 0);
  auto status = service_->SnapshotRemoteStatus();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ((*status)["remote_behind_by"], 0);
  auto pushed = service_->PushSnapshots();
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ((*pushed)["head"], taken["commit"]);
  auto events = store_->journal().Query({.category = "snapshot", .kind = "pushed"});
  EXPECT_EQ(events->size(), 1u);
}

}  // namespace
}  // namespace rebound::engine
