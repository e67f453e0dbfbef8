#include "store/sync_service.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "store/store.h"
#include "testing/manual_scheduler.h"

namespace rebound::store {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The application side of one module: its document, when it last changed, and faults.
struct FakeSyncApp {
  json document = json::object();
  std::optional<int64_t> updated_at_ms;
  std::optional<Error> read_error;
  std::optional<Error> write_error;
  std::function<void()> during_read;  // runs inside read: a concurrent store writer
  int reads = 0;
  int writes = 0;

  SyncEndpoints Endpoints() {
    return {.read = [this]() -> Result<MemoryDocument> {
              ++reads;
              if (during_read) {
                during_read();
              }
              if (read_error) {
                return *read_error;
              }
              return MemoryDocument{document, updated_at_ms};
            },
            .write = [this](const json& written) -> Status {
              if (write_error) {
                return *write_error;
              }
              ++writes;
              document = written;
              return OkStatus();
            }};
  }
};

class SyncServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(*Store::OpenInMemory(clock_)); }
  ModuleStateStore& states() { return store_->states(); }
  int64_t NowMs() const { return ToUnixMillis(clock_.WallNow()); }
  ModuleState Stored(const std::string& module) { return *states().Get(module); }
  ModuleState Put(const std::string& module, json document) {
    return *states().Put(module, std::move(document), std::nullopt).get();
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
  FakeSyncApp app_;
};

TEST(SyncStrategyTest, ParsesTheThreeNamesAndRejectsOthers) {
  EXPECT_EQ(*ParseSyncStrategy("memory-wins"), SyncStrategy::kMemoryWins);
  EXPECT_EQ(*ParseSyncStrategy("persistent-wins"), SyncStrategy::kPersistentWins);
  EXPECT_EQ(*ParseSyncStrategy("newest-wins"), SyncStrategy::kNewestWins);
  auto bad = ParseSyncStrategy("disk-wins");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(bad.error().message().find("\"newest-wins\""), std::string::npos);
  EXPECT_EQ(SyncStrategyName(SyncStrategy::kPersistentWins), "persistent-wins");
}

TEST_F(SyncServiceTest, AModuleTheStoreHasNeverSeenIsStored) {
  SyncService sync(states(), clock_, SyncStrategy::kPersistentWins);
  app_.document = {{"model", "gpt-4"}};
  sync.Register("llm", app_.Endpoints());
  SyncReport report = sync.SyncOnce();
  ASSERT_EQ(report.modules.size(), 1u);
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(report.modules[0].store_version, 1);
  EXPECT_EQ(Stored("llm").document, app_.document);
  EXPECT_EQ(app_.writes, 0);
}

TEST_F(SyncServiceTest, EqualDocumentsMoveNothing) {
  SyncService sync(states(), clock_, SyncStrategy::kMemoryWins);
  app_.document = {{"n", 1}};
  Put("m", app_.document);
  sync.Register("m", app_.Endpoints());
  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kUnchanged);
  EXPECT_EQ(Stored("m").version, 1);  // no write, not even an identical one
  EXPECT_EQ(app_.writes, 0);
}

TEST_F(SyncServiceTest, MemoryWinsOverwritesTheStoreEvenWhenItIsNewer) {
  SyncService sync(states(), clock_, SyncStrategy::kMemoryWins);
  app_.document = {{"n", 1}};
  app_.updated_at_ms = NowMs() - 60000;
  Put("m", {{"n", 2}});
  sync.Register("m", app_.Endpoints());
  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(Stored("m").document, json({{"n", 1}}));
  EXPECT_EQ(Stored("m").version, 2);
}

TEST_F(SyncServiceTest, PersistentWinsOverwritesTheApplicationEvenWhenItIsNewer) {
  SyncService sync(states(), clock_, SyncStrategy::kPersistentWins);
  Put("m", {{"n", 2}});
  app_.document = {{"n", 1}};
  app_.updated_at_ms = NowMs() + 60000;
  sync.Register("m", app_.Endpoints());
  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kToMemory);
  EXPECT_EQ(app_.document, json({{"n", 2}}));
  EXPECT_EQ(Stored("m").version, 1);
}

TEST_F(SyncServiceTest, NewestWinsMovesTheNewerSideEachWay) {
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  Put("m", {{"n", 2}});
  sync.Register("m", app_.Endpoints());

  app_.document = {{"n", 1}};
  app_.updated_at_ms = NowMs() - 1;  // older than the store's copy
  EXPECT_EQ(sync.SyncOnce().modules[0].direction, SyncDirection::kToMemory);
  EXPECT_EQ(app_.document, json({{"n", 2}}));

  clock_.AdvanceBy(5s);
  app_.document = {{"n", 3}};
  app_.updated_at_ms = NowMs();  // newer than the store's copy
  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(Stored("m").document, json({{"n", 3}}));
  EXPECT_EQ(Stored("m").version, 2);
}

TEST_F(SyncServiceTest, NewestWinsTreatsAnApplicationWithoutUpdatedAtAsNewest) {
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  Put("m", {{"n", 2}});
  app_.document = {{"n", 1}};
  sync.Register("m", app_.Endpoints());
  EXPECT_EQ(sync.SyncOnce().modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(Stored("m").document, json({{"n", 1}}));
}

TEST_F(SyncServiceTest, NewestWinsTieMovesNothing) {
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  const ModuleState stored = Put("m", {{"n", 2}});
  app_.document = {{"n", 1}};
  app_.updated_at_ms = stored.updated_at_ms;
  sync.Register("m", app_.Endpoints());
  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kTie);
  EXPECT_EQ(app_.document, json({{"n", 1}}));
  EXPECT_EQ(Stored("m").document, json({{"n", 2}}));
  EXPECT_EQ(SyncReportToJson(report)["unchanged"], 1);
}

TEST_F(SyncServiceTest, AStoreWriteBetweenReadAndWriteIsAConflictRetriedNextRound) {
  SyncService sync(states(), clock_, SyncStrategy::kMemoryWins);
  Put("m", {{"n", 1}});
  app_.document = {{"n", 10}};
  app_.during_read = [&] { Put("m", {{"n", 2}}); };  // another writer wins the race
  sync.Register("m", app_.Endpoints());

  SyncReport first = sync.SyncOnce();
  EXPECT_EQ(first.modules[0].direction, SyncDirection::kConflict);
  EXPECT_NE(first.modules[0].detail.find("not the expected 1"), std::string::npos);
  EXPECT_EQ(Stored("m").document, json({{"n", 2}}));  // the other writer's value survives
  EXPECT_EQ(sync.conflicts_total(), 1);

  app_.during_read = nullptr;
  SyncReport second = sync.SyncOnce();
  EXPECT_EQ(second.modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(Stored("m").document, json({{"n", 10}}));
  EXPECT_EQ(sync.rounds_total(), 2);
}

TEST_F(SyncServiceTest, WritesIssuedTogetherStillResolvePerModule) {
  SyncService sync(states(), clock_, SyncStrategy::kMemoryWins);
  Put("raced", {{"n", 1}});
  Put("moved", {{"n", 1}});
  FakeSyncApp fresh;
  fresh.document = {{"n", 7}};
  FakeSyncApp raced;
  raced.document = {{"n", 8}};
  raced.during_read = [&] { Put("raced", {{"n", 2}}); };
  FakeSyncApp moved;
  moved.document = {{"n", 9}};
  sync.Register("fresh", fresh.Endpoints());
  sync.Register("raced", raced.Endpoints());
  sync.Register("moved", moved.Endpoints());

  SyncReport report = sync.SyncOnce();
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kToStore);
  EXPECT_EQ(report.modules[0].store_version, 1);
  EXPECT_EQ(report.modules[1].direction, SyncDirection::kConflict);
  EXPECT_EQ(report.modules[1].store_version, 1);  // the version the round expected
  EXPECT_EQ(report.modules[2].direction, SyncDirection::kToStore);
  EXPECT_EQ(report.modules[2].store_version, 2);
  EXPECT_EQ(Stored("fresh").document, json({{"n", 7}}));
  EXPECT_EQ(Stored("raced").document, json({{"n", 2}}));
  EXPECT_EQ(Stored("moved").document, json({{"n", 9}}));
}

TEST_F(SyncServiceTest, AConcurrentCreateIsAConflictToo) {
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  app_.document = {{"n", 10}};
  app_.during_read = [&] { Put("m", {{"n", 2}}); };
  sync.Register("m", app_.Endpoints());
  EXPECT_EQ(sync.SyncOnce().modules[0].direction, SyncDirection::kConflict);
  EXPECT_EQ(Stored("m").document, json({{"n", 2}}));
}

TEST_F(SyncServiceTest, ErrorsArePerModuleAndDoNotStopTheRound) {
  SyncService sync(states(), clock_, SyncStrategy::kPersistentWins);
  FakeSyncApp broken;
  broken.read_error = NetworkError("connection refused");
  FakeSyncApp unwritable;
  unwritable.write_error = PermissionError("read-only");
  Put("b", {{"n", 2}});
  FakeSyncApp healthy;
  healthy.document = {{"n", 3}};
  sync.Register("a", broken.Endpoints());
  sync.Register("b", unwritable.Endpoints());
  sync.Register("c", healthy.Endpoints());

  SyncReport report = sync.SyncOnce();
  ASSERT_EQ(report.modules.size(), 3u);
  EXPECT_EQ(report.modules[0].direction, SyncDirection::kError);
  EXPECT_EQ(report.modules[0].detail, "read: connection refused");
  EXPECT_EQ(report.modules[1].direction, SyncDirection::kError);
  EXPECT_EQ(report.modules[1].detail, "write: read-only");
  EXPECT_EQ(report.modules[2].direction, SyncDirection::kToStore);
  const json summary = SyncReportToJson(report);
  EXPECT_EQ(summary["errors"], 2);
  EXPECT_EQ(summary["to_store"], 1);
  EXPECT_EQ(summary["modules"][0]["direction"], "error");
  EXPECT_FALSE(states().Get("a").ok());
}

TEST_F(SyncServiceTest, RunsEveryIntervalUntilStopped) {
  testing::ManualScheduler scheduler(clock_);
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  app_.document = {{"n", 1}};
  sync.Register("m", app_.Endpoints());
  sync.Start(scheduler, 30s);

  scheduler.AdvanceBy(29s);
  EXPECT_EQ(app_.reads, 0);
  EXPECT_FALSE(sync.LastReport().has_value());
  scheduler.AdvanceBy(1s);
  EXPECT_EQ(app_.reads, 1);
  ASSERT_TRUE(sync.LastReport().has_value());
  EXPECT_EQ(sync.LastReport()->modules[0].direction, SyncDirection::kToStore);
  scheduler.AdvanceBy(60s);
  EXPECT_EQ(app_.reads, 3);
  EXPECT_EQ(sync.LastReport()->modules[0].direction, SyncDirection::kUnchanged);

  sync.Stop();
  scheduler.AdvanceBy(60s);
  EXPECT_EQ(app_.reads, 3);
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST_F(SyncServiceTest, ARoundRunnerDecidesWhereScheduledRoundsRun) {
  testing::ManualScheduler scheduler(clock_);
  SyncService sync(states(), clock_, SyncStrategy::kNewestWins);
  sync.Register("m", app_.Endpoints());
  std::vector<std::function<void()>> queued;
  sync.Start(scheduler, 10s, [&](std::function<void()> round) { queued.push_back(round); });
  scheduler.AdvanceBy(10s);
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(app_.reads, 0);  // not run on the scheduler
  queued[0]();
  EXPECT_EQ(app_.reads, 1);
  sync.Stop();
}

}  // namespace
}  // namespace rebound::store
