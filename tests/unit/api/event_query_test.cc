#include "api/event_query.h"

#include <gtest/gtest.h>

namespace rebound::api {
namespace {

const WallTime kNow = FromUnixMillis(1'800'000'000'000);

Result<store::EventFilter> Parse(std::multimap<std::string, std::string> query) {
  return ParseEventQuery(query, kNow);
}

TEST(EventQueryTest, EmptyQueryIsEverythingWithTheDefaultLimit) {
  Result<store::EventFilter> filter = Parse({});
  ASSERT_TRUE(filter.ok());
  EXPECT_FALSE(filter->category.has_value());
  EXPECT_EQ(filter->after_seq, 0);
  EXPECT_EQ(filter->limit, 1000);
}

TEST(EventQueryTest, ParsesEveryParameter) {
  Result<store::EventFilter> filter = Parse({{"category", "service"},
                                             {"kind", "exited"},
                                             {"subject", "api"},
                                             {"since", "1700000000000"},
                                             {"until", "2026-11-25T22:00:00.5Z"},
                                             {"after", "12"},
                                             {"limit", "50"}});
  ASSERT_TRUE(filter.ok()) << filter.error().message();
  EXPECT_EQ(filter->category, "service");
  EXPECT_EQ(filter->kind, "exited");
  EXPECT_EQ(filter->subject, "api");
  EXPECT_EQ(filter->since_ms, 1700000000000);
  EXPECT_EQ(filter->until_ms, 1795644000500);
  EXPECT_EQ(filter->after_seq, 12);
  EXPECT_EQ(filter->limit, 50);
}

TEST(EventQueryTest, ADurationMeansThatLongAgo) {
  Result<store::EventFilter> filter = Parse({{"since", "10m"}});
  ASSERT_TRUE(filter.ok());
  EXPECT_EQ(filter->since_ms, 1'800'000'000'000 - 600'000);
}

TEST(EventQueryTest, ErrorsNameTheParameterAndWhatItAccepts) {
  struct Case {
    std::string name, value, expected;
  };
  for (const Case& c : {Case{"limit", "0", "from 1 to 10000"}, Case{"limit", "x", "from 1 to"},
                        Case{"limit", "10001", "10000"}, Case{"after", "-1", "sequence number"},
                        Case{"since", "yesterday", "RFC 3339"},
                        Case{"until", "2026-11-25T22:00:00+01:00", "UTC"}}) {
    Result<store::EventFilter> filter = Parse({{c.name, c.value}});
    ASSERT_FALSE(filter.ok()) << c.name << "=" << c.value;
    EXPECT_EQ(filter.error().category(), ErrorCategory::kValidation);
    EXPECT_NE(filter.error().message().find("\"" + c.name + "\""), std::string::npos)
        << filter.error().message();
    EXPECT_NE(filter.error().message().find(c.expected), std::string::npos)
        << filter.error().message();
  }
}

TEST(EventQueryTest, UnknownParameterIsRefusedNotIgnored) {
  Result<store::EventFilter> filter = Parse({{"categroy", "service"}});
  ASSERT_FALSE(filter.ok());
  EXPECT_NE(filter.error().message().find("unknown query parameter \"categroy\""),
            std::string::npos);
}

}  // namespace
}  // namespace rebound::api
