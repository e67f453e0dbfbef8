#include "api/log_follower.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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
    Lines texts;
    for (const LogLine& line : ReadWithCursors(follower)) {
      texts.push_back(line.text);
    }
    return texts;
  }
  std::vector<LogLine> ReadWithCursors(LogFollower& follower) {
    Result<std::vector<LogLine>> lines = follower.ReadNewLines();
    EXPECT_TRUE(lines.ok());
    return lines.value_or(std::vector<LogLine>{});
  }
  uint64_t Inode(const std::string& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0);
    return info.st_ino;
  }
  void Rotate() { ASSERT_EQ(std::rename(path_.c_str(), (path_ + ".1").c_str()), 0); }

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

TEST_F(LogFollowerTest, EachLineCarriesTheCursorJustAfterIt) {
  Append("ab\n");
  auto follower = LogFollower::Open(path_);
  const uint64_t inode = Inode(path_);
  EXPECT_EQ(follower->cursor(), (LogCursor{inode, 3}));
  Append("cde\nf\n");
  EXPECT_EQ(ReadWithCursors(*follower),
            (std::vector<LogLine>{{"cde", {inode, 7}}, {"f", {inode, 9}}}));
  EXPECT_EQ(follower->cursor(), (LogCursor{inode, 9}));
  EXPECT_FALSE(follower->resumed());
}

TEST_F(LogFollowerTest, ResumesInTheSameFileRightAfterTheCursor) {
  Append("one\ntwo\n");
  const LogCursor after_one{Inode(path_), 4};
  Append("three\n");
  auto follower = LogFollower::OpenAfter(path_, after_one);
  EXPECT_TRUE(follower->resumed());
  EXPECT_EQ(follower->initial_content(), "");
  EXPECT_EQ(Read(*follower), (Lines{"two", "three"}));
  Append("four\n");
  EXPECT_EQ(Read(*follower), Lines{"four"});
}

TEST_F(LogFollowerTest, ResumesInARotatedFileThenReadsTheNewOne) {
  Append("one\ntwo\n");
  const uint64_t old_inode = Inode(path_);
  Rotate();
  Append("three\n");
  auto follower = LogFollower::OpenAfter(path_, {old_inode, 4});
  EXPECT_TRUE(follower->resumed());
  std::vector<LogLine> lines = ReadWithCursors(*follower);
  EXPECT_EQ(lines, (std::vector<LogLine>{{"two", {old_inode, 8}}, {"three", {Inode(path_), 6}}}));
  Append("four\n");
  EXPECT_EQ(Read(*follower), Lines{"four"});
}

TEST_F(LogFollowerTest, ACursorNoFileHoldsAnyMoreStartsAfresh) {
  Append("one\ntwo\n");
  auto follower = LogFollower::OpenAfter(path_, {Inode(path_) + 12345, 4});
  EXPECT_FALSE(follower->resumed());
  EXPECT_EQ(follower->initial_content(), "one\ntwo\n");  // for the tail, as Open gives
  Append("three\n");
  EXPECT_EQ(Read(*follower), Lines{"three"});
}

TEST_F(LogFollowerTest, ACursorBeyondTheFilesEndIsNotResumed) {
  Append("one\n");
  EXPECT_FALSE(LogFollower::OpenAfter(path_, {Inode(path_), 999})->resumed());
}

TEST_F(LogFollowerTest, TheStartCursorResumesAFileWrittenSince) {
  auto follower = LogFollower::Open(path_);
  EXPECT_EQ(follower->cursor(), LogCursor{});  // nothing yet
  Append("first\n");
  auto resumed = LogFollower::OpenAfter(path_, follower->cursor());
  EXPECT_TRUE(resumed->resumed());
  EXPECT_EQ(Read(*resumed), Lines{"first"});
}

TEST(LogCursorTest, ParsesWhatItPrints) {
  const LogCursor cursor{123456789, 42};
  EXPECT_EQ(cursor.ToString(), "123456789:42");
  EXPECT_EQ(LogCursor::Parse(cursor.ToString()), cursor);
  for (const char* bad : {"", "42", ":1", "1:", "1:-2", "a:1", "1:2:3", "1:2x"}) {
    EXPECT_EQ(LogCursor::Parse(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace rebound::api
