#include "api/sse.h"

#include <gtest/gtest.h>

namespace rebound::api {
namespace {

TEST(SseTest, FramesAnEventWithIdNameAndData) {
  EXPECT_EQ(FormatSseEvent(42, "service.exited", R"({"code":1})"),
            "id: 42\nevent: service.exited\ndata: {\"code\":1}\n\n");
}

TEST(SseTest, MultiLineDataBecomesOneDataLinePerLine) {
  EXPECT_EQ(FormatSseEvent(1, "", "a\nb"), "id: 1\ndata: a\ndata: b\n\n");
}

TEST(SseTest, CommentsStartWithAColon) { EXPECT_EQ(FormatSseComment("hi"), ": hi\n\n"); }

TEST(SseTest, ParserRoundTripsFramedEventsFedInPieces) {
  const std::string stream =
      FormatSseComment("open") + FormatSseEvent(7, "a.b", "x\ny") + FormatSseEvent(8, "", "z");
  SseParser parser;
  std::vector<SseEvent> events;
  for (char c : stream) {  // worst case: one byte at a time
    for (SseEvent& event : parser.Feed(std::string_view(&c, 1))) {
      events.push_back(std::move(event));
    }
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].event, "a.b");
  EXPECT_EQ(events[0].data, "x\ny");
  EXPECT_EQ(events[1].id, "8");
  EXPECT_EQ(events[1].event, "message");
  EXPECT_EQ(events[1].data, "z");
}

TEST(SseTest, ParserAcceptsCrLfAndFieldsWithoutASpace) {
  SseParser parser;
  std::vector<SseEvent> events = parser.Feed("id:3\r\ndata:hello\r\n\r\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "3");
  EXPECT_EQ(events[0].data, "hello");
}

TEST(SseTest, AnIdWithoutDataMovesTheResumePointWithoutAnEvent) {
  SseParser parser;
  EXPECT_EQ(parser.last_event_id(), "");
  EXPECT_TRUE(parser.Feed(FormatSseComment("hi") + FormatSseId(41)).empty());
  EXPECT_EQ(parser.last_event_id(), "41");
  EXPECT_EQ(parser.Feed(FormatSseEvent(42, "a", "x")).size(), 1u);
  EXPECT_EQ(parser.last_event_id(), "42");
}

// A read that ends between an event's id and its blank line has not delivered the event: a
// client that reconnected from that id would skip it.
TEST(SseTest, TheResumePointMovesOnlyWhenTheEventIsDispatched) {
  SseParser parser;
  EXPECT_EQ(parser.Feed(FormatSseEvent(7, "line", "a")).size(), 1u);
  const std::string next = FormatSseEvent(8, "line", "b");
  const size_t cut = next.find("data:");
  ASSERT_NE(cut, std::string::npos);
  EXPECT_TRUE(parser.Feed(next.substr(0, cut)).empty());
  EXPECT_EQ(parser.last_event_id(), "7");
  EXPECT_EQ(parser.Feed(next.substr(cut)).size(), 1u);
  EXPECT_EQ(parser.last_event_id(), "8");
}

TEST(SseTest, ParserIgnoresABlankLineWithoutData) {
  SseParser parser;
  EXPECT_TRUE(parser.Feed("id: 1\n\n: comment\n\n").empty());
}

}  // namespace
}  // namespace rebound::api
