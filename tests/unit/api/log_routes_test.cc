#include "api/log_routes.h"

#include <gtest/gtest.h>

#include "api/state_routes.h"

namespace rebound::api {
namespace {

using Lines = std::vector<std::string>;

TEST(TailLinesTest, TakesTheLastLinesAcrossRotatedFiles) {
  EXPECT_EQ(TailLines({"a\nb\n", "c\nd\n"}, 3), (Lines{"b", "c", "d"}));
  EXPECT_EQ(TailLines({"a\nb\n", "c\nd\n"}, 10), (Lines{"a", "b", "c", "d"}));
}

TEST(TailLinesTest, APartialLastLineCountsAndEmptyFilesAreSkipped) {
  EXPECT_EQ(TailLines({"a\n", "", "b\npartial"}, 2), (Lines{"b", "partial"}));
  EXPECT_EQ(TailLines({}, 5), Lines{});
}

TEST(TailLinesTest, KeepsEmptyLinesInsideTheOutput) {
  EXPECT_EQ(TailLines({"a\n\nb\n"}, 3), (Lines{"a", "", "b"}));
}

TEST(LogFilesTest, OldestRotationFirstNumericallyAndOnlyThisService) {
  EXPECT_EQ(LogFilesOldestFirst({"api.log", "api.log.1", "api.log.10", "api.log.9", "apix.log",
                                 "api.log.tmp", "db.log.1"},
                                "api"),
            (Lines{"api.log.10", "api.log.9", "api.log.1", "api.log"}));
}

TEST(IfMatchTest, AcceptsStrongWeakAndBareVersions) {
  EXPECT_EQ(*ParseIfMatch("\"3\""), 3);
  EXPECT_EQ(*ParseIfMatch("W/\"4\""), 4);
  EXPECT_EQ(*ParseIfMatch("5"), 5);
}

TEST(IfMatchTest, RefusesAnythingElseNamingTheHeader) {
  for (const char* bad : {"", "\"\"", "*", "\"0\"", "\"x\"", "\"3\", \"4\""}) {
    Result<int64_t> version = ParseIfMatch(bad);
    ASSERT_FALSE(version.ok()) << bad;
    EXPECT_NE(version.error().message().find("If-Match"), std::string::npos);
  }
}

}  // namespace
}  // namespace rebound::api
