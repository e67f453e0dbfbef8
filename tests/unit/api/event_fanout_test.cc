#include "api/event_fanout.h"

#include <gtest/gtest.h>

#include "api/sse.h"
#include "store/store.h"

namespace rebound::api {
namespace {

using namespace std::chrono_literals;

class EventFanoutTest : public ::testing::Test {
 protected:
  int64_t Append(const std::string& kind, const std::string& subject) {
    auto seq = store_->journal().Append({.category = "service", .kind = kind, .subject = subject});
    return seq.get().value_or(-1);
  }
  // The ids of the frames in `batch`, in order.
  static std::vector<std::string> Ids(const FanoutBatch& batch) {
    SseParser parser;
    std::vector<std::string> ids;
    for (const SseEvent& event : parser.Feed(batch.frames)) {
      ids.push_back(event.id);
    }
    return ids;
  }
  FanoutBatch Read(store::EventFilter filter, Duration timeout = 0ms) {
    Result<std::optional<FanoutBatch>> batch = fanout_.Read(filter, timeout);
    EXPECT_TRUE(batch.ok() && batch->has_value());
    return batch.ok() && *batch ? **batch : FanoutBatch{.last_seq = -1};
  }

  std::unique_ptr<store::Store> store_ = std::move(*store::Store::OpenInMemory());
  EventFanout fanout_{store_->journal(), /*capacity=*/3};
};

TEST_F(EventFanoutTest, NothingNewIsAnEmptyBatchThatStaysPut) {
  FanoutBatch batch = Read({.after_seq = 0});
  EXPECT_EQ(batch.frames, "");
  EXPECT_EQ(batch.last_seq, 0);
}

TEST_F(EventFanoutTest, EveryReaderGetsTheSameFramesAsTheJournalHasThem) {
  ASSERT_EQ(Read({.after_seq = 0}).last_seq, 0);  // the ring starts here
  const int64_t first = Append("started", "api");
  const int64_t second = Append("exited", "db");
  FanoutBatch one = Read({.after_seq = 0});
  FanoutBatch two = Read({.after_seq = 0});
  EXPECT_EQ(one.frames, two.frames);
  EXPECT_EQ(one.last_seq, second);
  EXPECT_EQ(Ids(one), (std::vector<std::string>{std::to_string(first), std::to_string(second)}));
  auto events = store_->journal().Query({});
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(one.frames,
            FormatSseEvent(first, "service.started", store::EventToJson((*events)[0]).dump()) +
                FormatSseEvent(second, "service.exited", store::EventToJson((*events)[1]).dump()));
  EXPECT_EQ(Ids(Read({.after_seq = first})), std::vector<std::string>{std::to_string(second)});
}

TEST_F(EventFanoutTest, AFilteredReaderSkipsWhatDoesNotMatchButMovesPastIt) {
  ASSERT_EQ(Read({.after_seq = 0}).last_seq, 0);
  Append("started", "api");
  const int64_t db = Append("started", "db");
  FanoutBatch batch = Read({.subject = "db", .after_seq = 0});
  EXPECT_EQ(Ids(batch), std::vector<std::string>{std::to_string(db)});
  EXPECT_EQ(batch.last_seq, db);
  FanoutBatch none = Read({.kind = "exited", .after_seq = 0});
  EXPECT_EQ(none.frames, "");
  EXPECT_EQ(none.last_seq, db);
}

TEST_F(EventFanoutTest, AReaderOlderThanTheRingIsSentToTheJournal) {
  const int64_t before = Append("started", "api");  // before the ring began
  ASSERT_EQ(Read({.after_seq = before}).last_seq, before);
  Result<std::optional<FanoutBatch>> behind = fanout_.Read({.after_seq = 0}, 0ms);
  ASSERT_TRUE(behind.ok());
  EXPECT_FALSE(behind->has_value());
  for (int i = 0; i < 4; ++i) {  // capacity 3: the oldest falls out of the ring
    Append("tick", "api");
  }
  EXPECT_EQ(Ids(Read({.after_seq = before + 1})).size(), 3u);
  ASSERT_TRUE(fanout_.Read({.after_seq = before}, 0ms).ok());
  EXPECT_FALSE(fanout_.Read({.after_seq = before}, 0ms)->has_value());
}

TEST_F(EventFanoutTest, AWaitingReaderGetsAnEventCommittedMeanwhile) {
  ASSERT_EQ(Read({.after_seq = 0}).last_seq, 0);
  std::thread writer([&] { Append("started", "api"); });
  FanoutBatch batch = Read({.after_seq = 0}, 10s);  // returns as soon as it is committed
  writer.join();
  EXPECT_EQ(Ids(batch), std::vector<std::string>{"1"});
}

}  // namespace
}  // namespace rebound::api
