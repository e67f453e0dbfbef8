#include "api/log_follower.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "testing/temp_dir.h"

namespace rebound::api {
namespace {

using Lines = std::vector<std::string>;

class LogFollowerTest : public ::testing::Test {
 protected:
  void Append(const std::string& text) { std::ofstream(path_, std::ios::app) << text; }
  Lines Read(LogFollower& follower) {
    Result<Lines> lines = follower.ReadNewLines();
    EXPECT_TRUE(lines.ok());
    return lines.value_or(Lines{});
  }

  testing::TempDir dir_;
  std::string path_ = dir_.Path("api.log");
};

TEST_F(LogFollowerTest, StartsAfterWhatWasThereAndHoldsBackAPartialLine) {
  Append("old 1\nold 2\nhalf");
  auto follower = LogFollower::Open(path_);
  EXPECT_EQ(follower->initial_content(), "old 1\nold 2\n");
  EXPECT_EQ(Read(*follower), Lines{});
  Append(" done\nnew\npart");
  EXPECT_EQ(Read(*follower), (Lines{"half done", "new"}));
  Append("ial\n");
  EXPECT_EQ(Read(*follower), Lines{"partial"});
}

TEST_F(LogFollowerTest, ReadsTheRestOfARotatedFileThenTheNewOne) {
  Append("a\n");
  auto follower = LogFollower::Open(path_);
  Append("b\n");
  ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0);  // as the shim rotates
  std::ofstream(path_ + ".1", std::ios::app) << "c\n";  // written before the old fd closed
  Append("d\n");                                        // the new api.log
  EXPECT_EQ(Read(*follower), (Lines{"b", "c", "d"}));
  Append("e\n");
  EXPECT_EQ(Read(*follower), Lines{"e"});
}

TEST_F(LogFollowerTest, AFileThatDoesNotExistYetIsFollowedOnceItAppears) {
  auto follower = LogFollower::Open(path_);
  EXPECT_EQ(follower->initial_content(), "");
  EXPECT_EQ(Read(*follower), Lines{});
  Append("first\n");
  EXPECT_EQ(Read(*follower), Lines{"first"});
}

}  // namespace
}  // namespace rebound::api
