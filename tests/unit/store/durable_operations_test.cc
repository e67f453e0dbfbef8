#include "store/durable_operations.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "base/manual_clock.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::store {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using resilience::RetryPolicy;

RetryPolicy Policy(int max_attempts) {
  return *RetryPolicy::Create(
      {.max_attempts = max_attempts, .backoff = {.initial = 1s, .factor = 2.0, .max = 1min}});
}

class DurableOperationsTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(*Store::OpenInMemory(clock_)); }
  DurableOperations& ops() { return store_->operations(); }

  // A download that fails with a network error `failures` times, then succeeds.
  OperationFn FlakyDownload(int failures) {
    return [this, failures](const json& args, const OperationContext& ctx) -> Result<json> {
      ++calls_;
      if (ctx.attempt <= failures) {
        return NetworkError("connection reset by peer");
      }
      return json{{"saved_to", args["dest"]}};
    };
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
  int calls_ = 0;
};

TEST(OperationStateMachineTest, TransitionsFollowTheDocumentedGraph) {
  using S = OperationState;
  using E = OperationEvent;
  EXPECT_EQ(*NextOperationState(S::kPending, E::kAttemptStarted), S::kInProgress);
  EXPECT_EQ(*NextOperationState(S::kInProgress, E::kSucceeded), S::kSuccess);
  EXPECT_EQ(*NextOperationState(S::kInProgress, E::kFailedWillRetry), S::kRecovering);
  EXPECT_EQ(*NextOperationState(S::kRecovering, E::kAttemptStarted), S::kInProgress);
  EXPECT_EQ(*NextOperationState(S::kInProgress, E::kFailedPermanently), S::kFailed);
  EXPECT_EQ(*NextOperationState(S::kInProgress, E::kGaveUp), S::kExhausted);
  EXPECT_EQ(*NextOperationState(S::kInProgress, E::kAttemptStarted), S::kInProgress);
  for (S terminal : {S::kSuccess, S::kFailed, S::kExhausted}) {
    EXPECT_TRUE(IsTerminal(terminal));
    EXPECT_FALSE(NextOperationState(terminal, E::kAttemptStarted).ok());
  }
  EXPECT_FALSE(NextOperationState(S::kPending, E::kSucceeded).ok());
  EXPECT_EQ(*ParseOperationState("in_progress"), S::kInProgress);
  EXPECT_FALSE(ParseOperationState("running").ok());
}

TEST_F(DurableOperationsTest, RetriesWithBackoffThenSucceeds) {
  ASSERT_TRUE(ops().Register("download", FlakyDownload(2), Policy(5)).ok());
  auto record =
      ops().Run("download", {{"url", "http://127.0.0.1/x"}, {"dest", "/tmp/x"}}, {.id = "dl-1"});
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  EXPECT_EQ(record->state, OperationState::kSuccess);
  EXPECT_EQ(record->attempt, 3);
  EXPECT_EQ((*record->result)["saved_to"], "/tmp/x");
  EXPECT_FALSE(record->error.has_value());
  EXPECT_EQ(clock_.TotalSlept(), 3s);  // 1 s then 2 s
  auto stored = *ops().Get("dl-1");
  EXPECT_EQ(stored.state, OperationState::kSuccess);
  EXPECT_EQ(stored.attempt, 3);
}

TEST_F(DurableOperationsTest, ExhaustedAfterMaxAttemptsWithTheLastError) {
  ASSERT_TRUE(ops().Register("download", FlakyDownload(100), Policy(3)).ok());
  auto record = *ops().Run("download", {{"dest", "/tmp/y"}});
  EXPECT_EQ(record.state, OperationState::kExhausted);
  EXPECT_EQ(record.attempt, 3);
  EXPECT_EQ(record.error, "connection reset by peer");
  EXPECT_EQ(record.error_category, "network");
  EXPECT_EQ(calls_, 3);
}

TEST_F(DurableOperationsTest, NonRetryableErrorFailsAtOnce) {
  ASSERT_TRUE(ops()
                  .Register(
                      "parse",
                      [](const json&, const OperationContext&) -> Result<json> {
                        return ValidationError("bad manifest");
                      },
                      Policy(5))
                  .ok());
  auto record = *ops().Run("parse", json::object());
  EXPECT_EQ(record.state, OperationState::kFailed);
  EXPECT_EQ(record.attempt, 1);
  EXPECT_EQ(record.error_category, "validation");
}

TEST_F(DurableOperationsTest, ExceptionsAreCaughtAndClassified) {
  ASSERT_TRUE(ops()
                  .Register(
                      "throws",
                      [](const json&, const OperationContext&) -> Result<json> {
                        throw std::invalid_argument("nope");
                      },
                      Policy(5))
                  .ok());
  auto record = *ops().Run("throws", json::object());
  EXPECT_EQ(record.state, OperationState::kFailed);
  EXPECT_EQ(record.error_category, "validation");
}

TEST_F(DurableOperationsTest, AResultWithInvalidUtf8IsStoredNotThrown) {
  ASSERT_TRUE(ops()
                  .Register("raw",
                            [](const json&, const OperationContext&) -> Result<json> {
                              return json{{"stdout", std::string("\xfe\xff")}};
                            })
                  .ok());
  auto record = ops().Run("raw", json::object(), {.id = "raw-1"});
  ASSERT_TRUE(record.ok()) << record.error().ToString();
  EXPECT_EQ(record->state, OperationState::kSuccess);
  EXPECT_EQ(ops().Get("raw-1")->state, OperationState::kSuccess);
}

TEST_F(DurableOperationsTest, SameIdReturnsTheRecordedOutcomeWithoutRunningAgain) {
  ASSERT_TRUE(ops().Register("download", FlakyDownload(0), Policy(3)).ok());
  auto first = *ops().Run("download", {{"dest", "a"}}, {.id = "same"});
  auto second = *ops().Run("download", {{"dest", "b"}}, {.id = "same"});
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(second.state, OperationState::kSuccess);
  EXPECT_EQ((*second.result)["saved_to"], "a");
  EXPECT_EQ(first.created_at_ms, second.created_at_ms);
}

TEST_F(DurableOperationsTest, AnIdOfAnotherOperationIsAConflict) {
  ASSERT_TRUE(ops().Register("a", FlakyDownload(0)).ok());
  ASSERT_TRUE(ops().Register("b", FlakyDownload(0)).ok());
  ASSERT_TRUE(ops().Run("a", {{"dest", "x"}}, {.id = "shared"}).ok());
  auto clash = ops().Run("b", {{"dest", "x"}}, {.id = "shared"});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().category(), ErrorCategory::kConflict);
}

TEST_F(DurableOperationsTest, UnknownNameAndMalformedArgsAreRejectedWithoutStoringAnything) {
  ASSERT_TRUE(ops().Register("download", FlakyDownload(0)).ok());
  auto unknown = ops().Run("upload", json::object());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().category(), ErrorCategory::kNotFound);
  auto malformed = ops().RunJson("download", "{\"dest\": ");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().category(), ErrorCategory::kValidation);
  EXPECT_NE(malformed.error().message().find("not valid JSON"), std::string::npos);
  EXPECT_TRUE(ops().List()->empty());
  EXPECT_TRUE(ops().RunJson("download", R"({"dest": "ok"})").ok());
  EXPECT_EQ(ops().Register("download", FlakyDownload(0)).error().category(),
            ErrorCategory::kConflict);
}

// A crash is simulated by writing the rows a killed process would have left behind, then
// opening the same data directory in a fresh Store (as a restarted process would).
class ResumeTest : public ::testing::Test {
 protected:
  void LeaveUnfinished(const std::string& id, const std::string& name, const std::string& state,
                       int attempt, const std::string& args = R"({"dest": "/tmp/r"})") {
    auto store = *Store::Open(dir_.path(), clock_);
    ASSERT_TRUE(store->writer()
                    .SubmitStatus([&](SqliteConnection& db) {
                      return db.Exec(
                          "INSERT INTO operations(id, name, state, attempt, args, created_at_ms, "
                          "updated_at_ms) VALUES ('" +
                          id + "', '" + name + "', '" + state + "', " + std::to_string(attempt) +
                          ", '" + args + "', 1, 1)");
                    })
                    .get()
                    .ok());
  }

  rebound::testing::TempDir dir_;
  ManualClock clock_;
};

TEST_F(ResumeTest, ResumeFinishesWhatACrashInterruptedAndSkipsFinishedOnes) {
  LeaveUnfinished("op-1", "download", "in_progress", 1);
  LeaveUnfinished("op-2", "download", "recovering", 2);
  LeaveUnfinished("op-3", "download", "pending", 0);
  LeaveUnfinished("done", "download", "success", 1);
  auto store = *Store::Open(dir_.path(), clock_);
  int calls = 0;
  ASSERT_TRUE(store->operations()
                  .Register(
                      "download",
                      [&](const json& args, const OperationContext&) -> Result<json> {
                        ++calls;
                        return json{{"saved_to", args["dest"]}};
                      },
                      Policy(5))
                  .ok());
  auto resumed = store->operations().Resume();
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  ASSERT_EQ(resumed->size(), 3u);
  EXPECT_EQ(calls, 3);
  for (const OperationRecord& record : *resumed) {
    EXPECT_EQ(record.state, OperationState::kSuccess) << record.id;
  }
  EXPECT_EQ(store->operations().Get("op-1")->attempt, 2);  // attempt numbering continues
  EXPECT_EQ(store->operations().Get("op-2")->attempt, 3);
  EXPECT_TRUE(store->operations().List(OperationState::kInProgress)->empty());
}

TEST_F(ResumeTest, UnknownNameOrDamagedArgsFailWithAClearErrorAndOthersStillResume) {
  LeaveUnfinished("a", "vanished", "in_progress", 1);
  LeaveUnfinished("b", "download", "in_progress", 1, "{not json");
  LeaveUnfinished("c", "download", "in_progress", 1);
  auto store = *Store::Open(dir_.path(), clock_);
  ASSERT_TRUE(
      store->operations()
          .Register("download",
                    [](const json&, const OperationContext&) -> Result<json> { return json("ok"); })
          .ok());
  auto resumed = store->operations().Resume();
  ASSERT_TRUE(resumed.ok());
  auto a = *store->operations().Get("a");
  EXPECT_EQ(a.state, OperationState::kFailed);
  EXPECT_NE(a.error->find("no operation registered under the name 'vanished'"), std::string::npos);
  auto b = *store->operations().Get("b");
  EXPECT_EQ(b.state, OperationState::kFailed);
  EXPECT_NE(b.error->find("stored arguments are damaged"), std::string::npos);
  EXPECT_EQ(store->operations().Get("c")->state, OperationState::kSuccess);
}

TEST_F(ResumeTest, FinishedOperationsAreCleanedUpAfterTheRetentionPeriod) {
  auto store = *Store::Open(dir_.path(), clock_);
  ASSERT_TRUE(store->operations()
                  .Register("noop",
                            [](const json&, const OperationContext&) -> Result<json> {
                              return json(nullptr);
                            })
                  .ok());
  ASSERT_TRUE(store->operations().Run("noop", json::object(), {.id = "old"}).ok());
  clock_.AdvanceBy(2h);
  ASSERT_TRUE(store->operations().Run("noop", json::object(), {.id = "new"}).ok());
  EXPECT_EQ(*store->operations().CleanupFinished(1h).get(), 1);
  EXPECT_EQ(store->operations().Get("old").error().category(), ErrorCategory::kNotFound);
  EXPECT_TRUE(store->operations().Get("new").ok());
}

}  // namespace
}  // namespace rebound::store
