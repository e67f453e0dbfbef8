#include "store/journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <sstream>
#include <thread>

#include "base/manual_clock.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace rebound::store {
namespace {

using namespace std::chrono_literals;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(*Store::OpenInMemory(clock_)); }

  int64_t Append(std::string category, std::string kind, std::string subject = "",
                 nlohmann::json data = nlohmann::json::object()) {
    auto seq = store_->journal()
                   .Append({.category = std::move(category),
                            .kind = std::move(kind),
                            .subject = std::move(subject),
                            .data = std::move(data)})
                   .get();
    EXPECT_TRUE(seq.ok());
    return seq.value_or(-1);
  }

  std::vector<std::string> Kinds(const EventFilter& filter) {
    std::vector<std::string> kinds;
    for (const Event& e : *store_->journal().Query(filter)) {
      kinds.push_back(e.kind);
    }
    return kinds;
  }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(JournalTest, AppendAssignsIncreasingSequenceAndClockTime) {
  EXPECT_EQ(Append("service", "started", "api", {{"pid", 42}}), 1);
  clock_.AdvanceBy(5s);
  EXPECT_EQ(Append("service", "exited", "api"), 2);
  auto events = *store_->journal().Query({});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].time_ms, 1'767'225'600'000);
  EXPECT_EQ(events[1].time_ms - events[0].time_ms, 5000);
  EXPECT_EQ(events[0].data["pid"], 42);
  EXPECT_EQ(store_->journal().LastCommittedSeq(), 2);
}

// Callers stamp events on their own threads (the daemon stamps a reactor round's events when they
// happen and writes them at the end of the round), so one stamped earlier can reach the writer
// after one stamped later. Time order must still follow sequence order, here and after a reopen.
TEST(JournalTimeOrderTest, AnEventStampedBeforeTheLastWrittenOneTakesItsTime) {
  ManualClock clock;
  testing::TempDir dir;
  {
    auto store = *Store::Open(dir.path(), clock);
    ASSERT_TRUE(
        store->journal().Append({.time_ms = 2000, .category = "c", .kind = "later"}).get().ok());
    ASSERT_TRUE(
        store->journal().Append({.time_ms = 1000, .category = "c", .kind = "earlier"}).get().ok());
    store->Close();
  }
  auto store = *Store::Open(dir.path(), clock);
  ASSERT_TRUE(
      store->journal().Append({.time_ms = 1500, .category = "c", .kind = "reopened"}).get().ok());
  ASSERT_TRUE(
      store->journal().Append({.time_ms = 3000, .category = "c", .kind = "newer"}).get().ok());
  auto events = *store->journal().Query({});
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].time_ms, 2000);
  EXPECT_EQ(events[1].time_ms, 2000);
  EXPECT_EQ(events[2].time_ms, 2000);
  EXPECT_EQ(events[3].time_ms, 3000);
}

// A COMMIT that fails (here: a deferred foreign key, as a disk error would) hands its sequence
// numbers out again. The journal's committed sequence must follow the table, not run ahead of
// it: a follower waits for "committed > what I saw" and would sleep through the reused numbers.
TEST(JournalCommitTest, AFailedCommitDoesNotMoveTheCommittedSequenceAhead) {
  ManualClock clock;
  testing::TempDir dir;
  auto db = *Database::Open(dir.path());
  ASSERT_TRUE(
      db->write_connection()
          .Exec("PRAGMA foreign_keys = ON; CREATE TABLE p(id INTEGER PRIMARY KEY);"
                "CREATE TABLE c(pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")
          .ok());
  GroupCommitWriter writer(*db);
  EventJournal journal(*db, writer, clock);
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto blocker = writer.SubmitStatus([&](SqliteConnection&) {
    started.set_value();
    released.wait();
    return OkStatus();
  });
  started.get_future().wait();  // the blocker's transaction is under way: what follows is next
  // One transaction: two events, then a row that makes its COMMIT fail.
  auto first = journal.Append({.category = "t", .kind = "a"});
  auto second = journal.Append({.category = "t", .kind = "b"});
  auto orphan = writer.SubmitStatus(
      [](SqliteConnection& c) { return c.Exec("INSERT INTO c(pid) VALUES (999)"); });
  release.set_value();
  EXPECT_FALSE(first.get().ok());
  EXPECT_FALSE(second.get().ok());
  EXPECT_FALSE(orphan.get().ok());
  EXPECT_TRUE(blocker.get().ok());
  EXPECT_EQ(journal.LastCommittedSeq(), 0);

  EXPECT_EQ(*journal.Append({.category = "t", .kind = "c"}).get(), 1);
  EXPECT_EQ(journal.LastCommittedSeq(), 1);
  EXPECT_EQ(*journal.Append({.category = "t", .kind = "d"}).get(), 2);
  EXPECT_EQ(journal.LastCommittedSeq(), 2);
  auto followed = journal.Follow({.after_seq = 1}, 10s);
  ASSERT_TRUE(followed.ok());
  ASSERT_EQ(followed->size(), 1u);
  EXPECT_EQ((*followed)[0].kind, "d");
}

TEST_F(JournalTest, AppendWithACallbackReportsTheDurableSequenceOrTheError) {
  std::promise<Result<int64_t>> durable;
  store_->journal().Append({.category = "service", .kind = "started"},
                           [&](Result<int64_t> seq) { durable.set_value(std::move(seq)); });
  Result<int64_t> seq = durable.get_future().get();
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 1);
  EXPECT_EQ(store_->journal().Query({})->size(), 1u);

  std::promise<Result<int64_t>> refused;
  store_->journal().Append({.category = "service", .kind = ""},
                           [&](Result<int64_t> seq) { refused.set_value(std::move(seq)); });
  Result<int64_t> error = refused.get_future().get();
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().category(), ErrorCategory::kValidation);
}

// After each commit the journal reads the newest sequence number back on the writer's
// connection. A read left open there would stop the WAL from restarting, so that the -wal
// file grew with every commit; with reads closed it stays near SQLite's 1000-page checkpoint.
TEST(JournalCommitTest, TheWriteAheadLogStaysBoundedOverManyCommits) {
  ManualClock clock;
  testing::TempDir dir;
  auto db = *Database::Open(dir.path());
  // Durability is not what this test is about: no fsync, so 1500 commits take no time.
  ASSERT_TRUE(db->write_connection().Exec("PRAGMA synchronous = OFF").ok());
  GroupCommitWriter writer(*db);
  EventJournal journal(*db, writer, clock);
  const std::string blob(16 * 1024, 'x');
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(
        journal.Append({.category = "t", .kind = "k", .data = {{"blob", blob}}}).get().ok());
  }
  std::error_code error;
  const auto wal = std::filesystem::file_size(dir.Path("rebound.db-wal"), error);
  ASSERT_FALSE(error) << error.message();
  EXPECT_LT(wal, 12u * 1024 * 1024) << "the WAL never restarted: " << wal << " bytes";
}

TEST_F(JournalTest, QueryFiltersByEveryField) {
  Append("service", "started", "api");
  Append("service", "started", "db");
  clock_.AdvanceBy(10s);
  Append("breaker", "opened", "api");
  Append("service", "exited", "api");
  EXPECT_EQ(Kinds({.category = "service"}),
            (std::vector<std::string>{"started", "started", "exited"}));
  EXPECT_EQ(Kinds({.kind = "opened"}), (std::vector<std::string>{"opened"}));
  EXPECT_EQ(Kinds({.subject = "db"}), (std::vector<std::string>{"started"}));
  EXPECT_EQ(Kinds({.category = "service", .subject = "api"}),
            (std::vector<std::string>{"started", "exited"}));
  const int64_t t0 = ToUnixMillis(clock_.WallNow());
  EXPECT_EQ(Kinds({.since_ms = t0}), (std::vector<std::string>{"opened", "exited"}));
  EXPECT_EQ(Kinds({.until_ms = t0}), (std::vector<std::string>{"started", "started"}));
  EXPECT_EQ(Kinds({.after_seq = 3}), (std::vector<std::string>{"exited"}));
  EXPECT_EQ(Kinds({.limit = 2}), (std::vector<std::string>{"started", "started"}));
}

TEST_F(JournalTest, InvalidUtf8InDataIsReplacedNotThrown) {
  const int64_t seq = Append("service", "output", "api", {{"line", std::string("bad \xff byte")}});
  ASSERT_GT(seq, 0);
  auto events = *store_->journal().Query({.kind = "output"});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].data["line"].get<std::string>().starts_with("bad "));
}

TEST_F(JournalTest, EmptyCategoryOrKindIsRejected) {
  auto seq = store_->journal().Append({.category = "", .kind = "x"}).get();
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.error().category(), ErrorCategory::kValidation);
}

TEST_F(JournalTest, FollowWakesWhenAnEventIsCommitted) {
  Append("a", "first");
  Result<std::vector<Event>> events = UnknownError("the follower did not return");
  std::thread follower([&] { events = store_->journal().Follow({.after_seq = 1}, 10s); });
  clock_.AwaitWaiters(1);  // the follower found nothing and waits; the clock never moves
  Append("a", "second");
  follower.join();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "second");
}

TEST_F(JournalTest, FollowReturnsAtOnceWhenEventsAreThere) {
  Append("a", "first");
  EXPECT_EQ(store_->journal().Follow({.after_seq = 0}, 10s)->size(), 1u);
  EXPECT_EQ(store_->journal().Follow({.after_seq = 0}, 0s)->size(), 1u);
}

TEST_F(JournalTest, FollowWithNoTimeLeftLooksOnceAndDoesNotWait) {
  Append("a", "first");
  auto none = store_->journal().Follow({.after_seq = 1}, 0s);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// The timeout runs on the journal's clock: the follower times out exactly when the clock
// passes it, however long (in real time) the test takes.
TEST_F(JournalTest, FollowTimesOutWhenTheInjectedClockPassesTheTimeout) {
  Append("a", "first");
  std::promise<Result<std::vector<Event>>> followed;
  auto outcome = followed.get_future();
  std::thread follower(
      [&] { followed.set_value(store_->journal().Follow({.after_seq = 1}, 5s)); });
  clock_.AwaitWaiters(1);
  clock_.AdvanceBy(4999ms);
  clock_.AwaitWaiters(1);  // it looked at the clock again, and sleeps on: 1 ms is left
  EXPECT_EQ(outcome.wait_for(0s), std::future_status::timeout);
  clock_.AdvanceBy(1ms);
  Result<std::vector<Event>> events = outcome.get();
  follower.join();
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

// An event that does not match the filter wakes the follower, which looks, finds nothing for
// it and waits again, towards the same deadline (not a new full timeout).
TEST_F(JournalTest, FollowKeepsItsDeadlineAcrossEventsThatDoNotMatch) {
  Append("a", "first");
  std::promise<Result<std::vector<Event>>> followed;
  auto outcome = followed.get_future();
  std::thread follower([&] {
    followed.set_value(store_->journal().Follow({.kind = "wanted", .after_seq = 1}, 5s));
  });
  clock_.AwaitWaiters(1);
  clock_.AdvanceBy(3s);
  Append("a", "other");
  clock_.AwaitWaiters(1);
  EXPECT_EQ(outcome.wait_for(0s), std::future_status::timeout);
  clock_.AdvanceBy(2s);
  Result<std::vector<Event>> events = outcome.get();
  follower.join();
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST_F(JournalTest, FollowReturnsTheMatchingEventBeforeItsDeadline) {
  Append("a", "first");
  std::promise<Result<std::vector<Event>>> followed;
  auto outcome = followed.get_future();
  std::thread follower([&] {
    followed.set_value(store_->journal().Follow({.kind = "wanted", .after_seq = 1}, 5s));
  });
  clock_.AwaitWaiters(1);
  Append("a", "other");
  clock_.AwaitWaiters(1);
  clock_.AdvanceBy(4s);
  clock_.AwaitWaiters(1);
  Append("a", "wanted");
  Result<std::vector<Event>> events = outcome.get();
  follower.join();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, "wanted");
}

TEST_F(JournalTest, RetentionByAgeAndCountNeverReusesSequenceNumbers) {
  for (int i = 0; i < 5; ++i) {
    Append("old", "e" + std::to_string(i));
  }
  clock_.AdvanceBy(2h);
  for (int i = 0; i < 5; ++i) {
    Append("new", "e" + std::to_string(i));
  }
  EXPECT_EQ(*store_->journal().ApplyRetention({.max_age = 1h}).get(), 5);
  EXPECT_EQ(*store_->journal().ApplyRetention({.max_count = 3}).get(), 2);
  auto left = *store_->journal().Query({});
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left.front().seq, 8);
  EXPECT_EQ(Append("new", "after"), 11);
}

TEST_F(JournalTest, ExportWritesOneJsonObjectPerLine) {
  for (int i = 0; i < 2500; ++i) {
    Append("bulk", "e", "s", {{"i", i}});
  }
  std::ostringstream out;
  auto written = store_->journal().ExportJsonLines({.limit = 0}, out);
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(*written, 2500);
  std::istringstream lines(out.str());
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line);
    EXPECT_EQ(json["seq"], count + 1);
    EXPECT_EQ(json["data"]["i"], count);
    ++count;
  }
  EXPECT_EQ(count, 2500);
  std::ostringstream limited;
  EXPECT_EQ(*store_->journal().ExportJsonLines({.limit = 10}, limited), 10);
}

}  // namespace
}  // namespace rebound::store
