#include "base/byte_size.h"

#include <gtest/gtest.h>

#include <limits>

namespace rebound {
namespace {

int64_t ParseBytes(std::string_view text) {
  auto result = ParseByteSize(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().ToString());
  return result.ok() ? *result : -1;
}

TEST(ByteSizeTest, ParsesPlainBytesAndEveryUnit) {
  EXPECT_EQ(ParseBytes("0"), 0);
  EXPECT_EQ(ParseBytes("512"), 512);
  EXPECT_EQ(ParseBytes("512B"), 512);
  EXPECT_EQ(ParseBytes("10KB"), 10 * 1024);
  EXPECT_EQ(ParseBytes("10KiB"), 10 * 1024);
  EXPECT_EQ(ParseBytes("10MB"), 10 * 1024 * 1024);
  EXPECT_EQ(ParseBytes("10MiB"), 10 * 1024 * 1024);
  EXPECT_EQ(ParseBytes("1GB"), int64_t{1} << 30);
  EXPECT_EQ(ParseBytes("1GiB"), int64_t{1} << 30);
}

TEST(ByteSizeTest, UnitsAreCaseInsensitiveAndMayFollowOneSpace) {
  EXPECT_EQ(ParseBytes("10mb"), 10 * 1024 * 1024);
  EXPECT_EQ(ParseBytes("10Mb"), 10 * 1024 * 1024);
  EXPECT_EQ(ParseBytes("2kib"), 2048);
  EXPECT_EQ(ParseBytes("7b"), 7);
  EXPECT_EQ(ParseBytes("10 MB"), 10 * 1024 * 1024);
}

TEST(ByteSizeTest, FractionsRoundDownToWholeBytes) {
  EXPECT_EQ(ParseBytes("1.5MB"), 1024 * 1024 * 3 / 2);
  EXPECT_EQ(ParseBytes(".5KB"), 512);
  EXPECT_EQ(ParseBytes("0.1KB"), 102);  // 102.4 bytes
}

TEST(ByteSizeTest, RejectsBadInputNamingTextAndExpectedForm) {
  for (const char* bad :
       {"", "MB", "abc", "-1MB", "10XB", "10 M B", "1.5", "1.5B", "1.2.3MB", "10  MB", "."}) {
    auto result = ParseByteSize(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_EQ(result.error().category(), ErrorCategory::kValidation);
    EXPECT_NE(result.error().message().find(std::string("\"") + bad + "\""), std::string::npos)
        << result.error().message();
    EXPECT_NE(result.error().message().find("expected a number and an optional unit"),
              std::string::npos);
  }
}

TEST(ByteSizeTest, ExplainsWhatIsWrong) {
  EXPECT_EQ(ParseByteSize("10XB").error().message(),
            "invalid byte size \"10XB\": unknown unit \"XB\"; expected a number and an optional "
            "unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. 512, 10MB, 1.5GiB");
  EXPECT_NE(ParseByteSize("-5").error().message().find("negative"), std::string::npos);
  EXPECT_NE(ParseByteSize("1.5").error().message().find("a fraction of a byte"), std::string::npos);
}

TEST(ByteSizeTest, RejectsOverflow) {
  auto result = ParseByteSize("9999999999GB");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("too large"), std::string::npos);
  EXPECT_FALSE(ParseByteSize("9223372036854775808").ok());
  EXPECT_EQ(ParseBytes("9223372036854775806"), std::numeric_limits<int64_t>::max() - 1);
}

TEST(ByteSizeTest, FormatsShortestExactSpelling) {
  EXPECT_EQ(FormatByteSize(0), "0B");
  EXPECT_EQ(FormatByteSize(512), "512B");
  EXPECT_EQ(FormatByteSize(1000), "1000B");
  EXPECT_EQ(FormatByteSize(1024), "1KB");
  EXPECT_EQ(FormatByteSize(1025), "1025B");
  EXPECT_EQ(FormatByteSize(1536), "1.5KB");
  EXPECT_EQ(FormatByteSize(10 * 1024 * 1024), "10MB");
  EXPECT_EQ(FormatByteSize(1024 * 1024 * 5 / 4), "1.25MB");
  EXPECT_EQ(FormatByteSize(int64_t{3} << 30), "3GB");
  EXPECT_EQ(FormatByteSize(-5), "-5B");
}

TEST(ByteSizeTest, FormatReadsBackToTheSameValue) {
  for (int64_t bytes : {int64_t{0}, int64_t{1}, int64_t{1023}, int64_t{1536}, int64_t{1048577},
                        int64_t{10} << 20, (int64_t{5} << 30) + (int64_t{1} << 29)}) {
    EXPECT_EQ(ParseBytes(FormatByteSize(bytes)), bytes) << FormatByteSize(bytes);
  }
}

}  // namespace
}  // namespace rebound
