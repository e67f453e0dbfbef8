#include "base/duration.h"

#include <gtest/gtest.h>

namespace rebound {
namespace {

using namespace std::chrono_literals;

Duration DurationOf(std::string_view text) {
  auto result = ParseDuration(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().ToString());
  return result.ok() ? *result : Duration(-1);
}

TEST(DurationTest, ParsesEveryUnit) {
  EXPECT_EQ(DurationOf("250ms"), 250ms);
  EXPECT_EQ(DurationOf("1.5s"), 1500ms);
  EXPECT_EQ(DurationOf("5m"), 5min);
  EXPECT_EQ(DurationOf("1h30m"), 90min);
  EXPECT_EQ(DurationOf("2d"), 48h);
  EXPECT_EQ(DurationOf("10us"), 10us);
  EXPECT_EQ(DurationOf("7ns"), 7ns);
  EXPECT_EQ(DurationOf("0"), 0s);
  EXPECT_EQ(DurationOf("0s"), 0s);
  EXPECT_EQ(DurationOf("1m30s500ms"), 90500ms);
  EXPECT_EQ(DurationOf(".5s"), 500ms);
}

TEST(DurationTest, RejectsBadInputNamingWhatWasExpected) {
  for (const char* bad : {"", "abc", "10", "5 s", "5x", "-1s", "1.2.3s", "s", "1hh", "1e9s"}) {
    auto result = ParseDuration(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().category(), ErrorCategory::kValidation);
    EXPECT_NE(result.error().message().find("expected a number and a unit"), std::string::npos)
        << result.error().message();
    EXPECT_NE(result.error().message().find(std::string("\"") + bad + "\""), std::string::npos);
  }
}

TEST(DurationTest, RejectsOverflow) {
  auto result = ParseDuration("99999999999999999999d");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("too large"), std::string::npos);
}

TEST(DurationTest, FormatsShortestExactSpelling) {
  EXPECT_EQ(FormatDuration(0s), "0s");
  EXPECT_EQ(FormatDuration(250ms), "250ms");
  EXPECT_EQ(FormatDuration(1500ms), "1.5s");
  EXPECT_EQ(FormatDuration(90min), "1h30m");
  EXPECT_EQ(FormatDuration(48h), "2d");
  EXPECT_EQ(FormatDuration(1250us), "1.25ms");
  EXPECT_EQ(FormatDuration(42ns), "42ns");
  EXPECT_EQ(FormatDuration(30s), "30s");
  EXPECT_EQ(FormatDuration(61500ms), "61.5s");
  EXPECT_EQ(FormatDuration(-2s), "-2s");
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (Duration d : {Duration(1), Duration(999), Duration(1'000'001), Duration(123'456'789),
                     Duration(3'723'000'000'000), Duration(86'400'000'000'001)}) {
    EXPECT_EQ(DurationOf(FormatDuration(d)), d) << FormatDuration(d);
  }
}

}  // namespace
}  // namespace rebound
