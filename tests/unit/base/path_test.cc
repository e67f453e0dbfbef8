#include "base/path.h"

#include <gtest/gtest.h>

namespace rebound {
namespace {

TEST(PathTest, NormalizeFoldsDotsAndSlashes) {
  EXPECT_EQ(NormalizePath("/a/./b//c/"), "/a/b/c");
  EXPECT_EQ(NormalizePath("/a/b/../c"), "/a/c");
  EXPECT_EQ(NormalizePath("/../a"), "/a");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("a/../.."), "..");
  EXPECT_EQ(NormalizePath("../../a"), "../../a");
  EXPECT_EQ(NormalizePath("./"), ".");
  EXPECT_EQ(NormalizePath(""), ".");
}

TEST(PathTest, JoinResolvesRelativeAgainstBaseAndKeepsAbsolute) {
  EXPECT_EQ(JoinPath("/etc/rebound", "services/api"), "/etc/rebound/services/api");
  EXPECT_EQ(JoinPath("/etc/rebound", "../data/./x"), "/etc/data/x");
  EXPECT_EQ(JoinPath("/etc/rebound", "."), "/etc/rebound");
  EXPECT_EQ(JoinPath("/etc/rebound", "/var/lib/x/"), "/var/lib/x");
  EXPECT_EQ(JoinPath("/", "x"), "/x");
}

TEST(PathTest, DirNameIsEverythingBeforeTheLastSlash) {
  EXPECT_EQ(DirName("/etc/rebound/rebound.toml"), "/etc/rebound");
  EXPECT_EQ(DirName("/rebound.toml"), "/");
  EXPECT_EQ(DirName("rebound.toml"), ".");
  EXPECT_EQ(DirName("conf/rebound.toml"), "conf");
}

TEST(PathTest, IsAbsoluteMeansLeadingSlash) {
  EXPECT_TRUE(IsAbsolutePath("/x"));
  EXPECT_FALSE(IsAbsolutePath("x/y"));
  EXPECT_FALSE(IsAbsolutePath(""));
}

}  // namespace
}  // namespace rebound
