#include "api/token.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "base/atomic_file.h"
#include "testing/fault_file_system.h"
#include "testing/temp_dir.h"

namespace rebound::api {
namespace {

const std::string kValidToken(64, 'a');

class TokenTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return dir_.Path("data"); }
  void WriteToken(const std::string& text, int mode) {
    ASSERT_TRUE(fs_.CreateDirs(DataDir()).ok());
    ASSERT_TRUE(WriteFileAtomically(fs_, TokenPath(DataDir()), text, mode).ok());
  }

  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
};

TEST_F(TokenTest, FirstStartCreatesA64HexTokenWithMode0600) {
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir());
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  EXPECT_EQ(token->size(), 64u);
  EXPECT_EQ(token->find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(*fs_.FileMode(TokenPath(DataDir())), 0600);
  EXPECT_EQ(*fs_.ReadFile(TokenPath(DataDir())), *token);
}

TEST_F(TokenTest, LaterStartsReadTheSameToken) {
  Result<std::string> first = LoadOrCreateToken(fs_, DataDir());
  Result<std::string> second = LoadOrCreateToken(fs_, DataDir());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

TEST_F(TokenTest, TokensOfTwoDataDirectoriesDiffer) {
  Result<std::string> first = LoadOrCreateToken(fs_, dir_.Path("a"));
  Result<std::string> second = LoadOrCreateToken(fs_, dir_.Path("b"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST_F(TokenTest, TokenReadableByOthersIsRefusedWithTheFix) {
  WriteToken(kValidToken, 0644);
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().category(), ErrorCategory::kPermission);
  EXPECT_NE(token.error().message().find("mode 0644"), std::string::npos);
  EXPECT_NE(token.error().message().find("chmod 600 " + TokenPath(DataDir())), std::string::npos);
}

TEST_F(TokenTest, TrailingNewlineIsTolerated) {
  WriteToken(kValidToken + "\n", 0600);
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir());
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  EXPECT_EQ(*token, kValidToken);
}

TEST_F(TokenTest, MalformedTokenIsCorruptionNamingTheFix) {
  WriteToken("not-a-token", 0600);
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().category(), ErrorCategory::kCorruption);
  EXPECT_NE(token.error().message().find("rm " + TokenPath(DataDir())), std::string::npos);
}

TEST_F(TokenTest, FailingRandomSourceCreatesNoFile) {
  auto failing = [](size_t) -> Result<std::string> { return ResourceError("no entropy"); };
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir(), failing);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().message(), "generate API token: no entropy");
  EXPECT_FALSE(fs_.Exists(TokenPath(DataDir())));
}

TEST_F(TokenTest, ShortRandomReadIsAnError) {
  auto short_read = [](size_t) -> Result<std::string> { return std::string(5, 'x'); };
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir(), short_read);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message().find("got 5 random bytes"), std::string::npos);
}

TEST_F(TokenTest, FailedFsyncLeavesNoTokenBehind) {
  testing::FaultFileSystem faulty(fs_);
  faulty.set_fail_sync(true);
  Result<std::string> token = LoadOrCreateToken(faulty, DataDir());
  ASSERT_FALSE(token.ok());
  EXPECT_FALSE(fs_.Exists(TokenPath(DataDir())));
  EXPECT_TRUE(fs_.ListDir(DataDir())->empty());
}

TEST_F(TokenTest, UncreatableDataDirectoryIsAnError) {
  std::ofstream(dir_.Path("plain-file")) << "x";
  Result<std::string> token = LoadOrCreateToken(fs_, dir_.Path("plain-file") + "/data");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message().find("create directory"), std::string::npos);
}

TEST_F(TokenTest, UnreadableTokenIsAnError) {
  // A directory where the file should be: its mode passes, reading it fails.
  ASSERT_TRUE(fs_.CreateDirs(TokenPath(DataDir())).ok());
  ASSERT_EQ(::chmod(TokenPath(DataDir()).c_str(), 0600), 0);
  Result<std::string> token = LoadOrCreateToken(fs_, DataDir());
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message().find("API token"), std::string::npos);
}

TEST_F(TokenTest, ReadTokenOfAMissingFileIsNotFound) {
  Result<std::string> token = ReadToken(fs_, DataDir());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().category(), ErrorCategory::kNotFound);
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

TEST(SecureRandomTest, BytesAreFreshEachCall) {
  Result<std::string> a = SecureRandomBytes(32);
  Result<std::string> b = SecureRandomBytes(32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
}

TEST(HexEncodeTest, TwoLowercaseDigitsPerByte) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
  EXPECT_EQ(HexEncode(""), "");
}

}  // namespace
}  // namespace rebound::api
