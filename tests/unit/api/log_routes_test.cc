#include "api/log_routes.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rebound::api
