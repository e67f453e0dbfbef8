#include "snapshot/timestamp.h"

#include <gtest/gtest.h>

namespace rebound::snapshot {
namespace {

TEST(TimestampTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(1767225600123), "2026-01-01T00:00:00.123Z");
}

TEST(TimestampTest, ParsesWhatItFormats) {
  for (int64_t ms : {int64_t{0}, int64_t{1767225600123}, int64_t{1700000000999}}) {
    EXPECT_EQ(*ParseTimestampMillis(FormatUtcMillis(ms)), ms);
  }
}

TEST(TimestampTest, AcceptsSecondsSpaceAndMissingZone) {
  EXPECT_EQ(*ParseTimestampMillis("1767225600"), 1767225600000);
  EXPECT_EQ(*ParseTimestampMillis("2026-01-01 00:00:01"), 1767225601000);
  EXPECT_EQ(*ParseTimestampMillis("2026-01-01T00:00:01Z"), 1767225601000);
}

TEST(TimestampTest, RefusesMalformedTimesNamingTheForm) {
  for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00+02:00",
                          "2026-01-01T00:00:00.1Z"}) {
    auto parsed = ParseTimestampMillis(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message().find("2025-11-25T23:30:00Z"), std::string::npos);
  }
}

}  // namespace
}  // namespace rebound::snapshot
