#include "supervise/process_info.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <climits>

namespace rebound::supervise {
namespace {

// A /proc/PID/stat line with `comm` as field 2 and 4242 as field 22 (starttime).
std::string StatLine(const std::string& comm) {
  std::string line = "1234 (" + comm + ") S";
  for (int field = 4; field <= 21; ++field) {
    line += " " + std::to_string(field);
  }
  return line + " 4242 23 24 25\n";
}

// Restores the test process's own command name when a test changed it.
class ScopedProcessName {
 public:
  explicit ScopedProcessName(const char* name) {
    ::prctl(PR_GET_NAME, saved_);
    ::prctl(PR_SET_NAME, name);
  }
  ~ScopedProcessName() { ::prctl(PR_SET_NAME, saved_); }

 private:
  char saved_[17] = {};
};

TEST(ParseStartTimeTest, ReadsField22) {
  EXPECT_EQ(*ParseStartTimeFromStat(StatLine("redis-server")), 4242u);
}

TEST(ParseStartTimeTest, CountsFieldsAfterTheLastParenthesisOfTheCommandName) {
  EXPECT_EQ(*ParseStartTimeFromStat(StatLine("a b) c (d")), 4242u);
  EXPECT_EQ(*ParseStartTimeFromStat(StatLine(") 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19")),
            4242u);
}

TEST(ParseStartTimeTest, MalformedTextIsCorruption) {
  for (const std::string& text :
       {std::string("1234 no parenthesis"), std::string("1234 (sh) S 1 2 3"),
        StatLine("sh").replace(StatLine("sh").find("4242"), 4, "42x2"), std::string()}) {
    auto parsed = ParseStartTimeFromStat(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kCorruption);
  }
}

TEST(ProcessInfoTest, OwnStartTimeIsStableAndUnaffectedByAnAwkwardName) {
  auto before = ProcessStartTime(::getpid());
  ASSERT_TRUE(before.ok()) << before.error().ToString();
  EXPECT_GT(*before, 0u);
  ScopedProcessName awkward("x) (y z) 1 2");
  auto after = ProcessStartTime(::getpid());
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(*after, *before);
}

TEST(ProcessInfoTest, NoSuchProcessIsNotFoundAndDoesNotExist) {
  // Above any pid_max Linux allows (2^22), so never a live process.
  constexpr int kImpossiblePid = INT_MAX;
  auto start_time = ProcessStartTime(kImpossiblePid);
  ASSERT_FALSE(start_time.ok());
  EXPECT_EQ(start_time.error().category(), ErrorCategory::kNotFound);
  EXPECT_FALSE(ProcessExists(kImpossiblePid));
  EXPECT_TRUE(ProcessExists(::getpid()));
}

TEST(ProcessInfoTest, GroupPidsAreNeverProbed) {
  EXPECT_FALSE(ProcessExists(0));
  EXPECT_FALSE(ProcessExists(-1));
  EXPECT_FALSE(ProcessStartTime(0).ok());
}

TEST(ProcessCommandLineTest, SplitsOnNulsIntoWholeWords) {
  const std::vector<std::string> args = ProcessCommandLine(DefaultFileSystem(), ::getpid());
  ASSERT_FALSE(args.empty());
  EXPECT_NE(args[0].find("supervise_test"), std::string::npos) << args[0];
  for (const std::string& word : args) {
    EXPECT_EQ(word.find('\0'), std::string::npos);
  }
}

TEST(ProcessCommandLineTest, AProcessThatIsGoneHasNone) {
  EXPECT_TRUE(ProcessCommandLine(DefaultFileSystem(), INT_MAX).empty());
}

}  // namespace
}  // namespace rebound::supervise
