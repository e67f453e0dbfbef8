#include "engine/config_reader.h"

#include <gtest/gtest.h>

namespace rebound::engine {
namespace {

toml::table ParseToml(std::string_view text) {
  return toml::parse(text, std::string_view("test.toml"));
}

TEST(ConfigReaderTest, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("command", "command"), 0);
  EXPECT_EQ(EditDistance("comand", "command"), 1);
  EXPECT_EQ(EditDistance("commands", "command"), 1);
  EXPECT_EQ(EditDistance("cammand", "command"), 1);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(ConfigReaderTest, ClosestMatchIsWithinTwoEditsAndPrefersTheFirstOnTies) {
  const std::vector<std::string> keys = {"max", "min", "cwd", "command"};
  EXPECT_EQ(ClosestMatch("comand", keys), "command");
  EXPECT_EQ(ClosestMatch("mix", keys), "max");  // max and min are both 1 away
  EXPECT_EQ(ClosestMatch("environment", keys), "");
  EXPECT_EQ(ClosestMatch("x", {}), "");
}

TEST(ConfigReaderTest, InFileOrderFollowsTheFileNotTheKeys) {
  const toml::table table = ParseToml("zeta = 1\nalpha = 2\n[mid]\n");
  const std::vector<ConfigEntry> entries = InFileOrder(table);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].key, "zeta");
  EXPECT_EQ(entries[0].line, 1);
  EXPECT_EQ(entries[1].key, "alpha");
  EXPECT_EQ(entries[2].key, "mid");
  EXPECT_EQ(entries[2].line, 3);
  EXPECT_TRUE(entries[2].value->is_table());
}

TEST(ConfigReaderTest, ErrorAtLeavesOutUnknownLineAndEmptyPath) {
  const ConfigReader reader("x.toml");
  EXPECT_EQ(reader.ErrorAt(4, "a.b", "bad").message(), "x.toml:4: a.b: bad");
  EXPECT_EQ(reader.ErrorAt(0, "a.b", "bad").message(), "x.toml: a.b: bad");
  EXPECT_EQ(reader.ErrorAt(4, "", "bad").message(), "x.toml:4: bad");
  EXPECT_EQ(reader.ErrorAt(4, "", "bad").category(), ErrorCategory::kValidation);
}

TEST(ConfigReaderTest, TypedReadsAcceptTheirTypes) {
  const toml::table table =
      ParseToml("s = \"x\"\ni = 7\nf = 1.5\nd = \"250ms\"\nb = \"1KB\"\nn = 9\n");
  const ConfigReader reader("x.toml");
  EXPECT_EQ(*reader.String(*table.get("s"), "s"), "x");
  EXPECT_EQ(*reader.Integer(*table.get("i"), "i", 0, 10), 7);
  EXPECT_EQ(*reader.Number(*table.get("f"), "f"), 1.5);
  EXPECT_EQ(*reader.Number(*table.get("i"), "i"), 7.0);
  EXPECT_EQ(*reader.DurationValue(*table.get("d"), "d", Duration::zero()),
            std::chrono::milliseconds(250));
  EXPECT_EQ(*reader.ByteSize(*table.get("b"), "b"), 1024);
  EXPECT_EQ(*reader.ByteSize(*table.get("n"), "n"), 9);
}

TEST(ConfigReaderTest, IntegerOutOfRangeNamesTheRange) {
  const toml::table table = ParseToml("i = 11\n");
  const ConfigReader reader("x.toml");
  EXPECT_EQ(reader.Integer(*table.get("i"), "i", 0, 10).error().message(),
            "x.toml:1: i: must be between 0 and 10, got 11");
}

TEST(ConfigReaderTest, WrongTypeNamesTimeAndDateTime) {
  const toml::table table = ParseToml("t = 07:32:00\ndt = 1979-05-27T07:32:00Z\n");
  const ConfigReader reader("x.toml");
  EXPECT_EQ(reader.String(*table.get("t"), "t").error().message(),
            "x.toml:1: t: expected a string, got a time");
  EXPECT_EQ(reader.Table(*table.get("dt"), "dt").error().message(),
            "x.toml:2: dt: expected a table, got a date-time");
}

}  // namespace
}  // namespace rebound::engine
