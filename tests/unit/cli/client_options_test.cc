#include "cli/client_options.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "api/token.h"
#include "base/atomic_file.h"
#include "testing/temp_dir.h"

namespace rebound::cli {
namespace {

class ClientOptionsTest : public ::testing::Test {
 protected:
  void WriteToken(const std::string& token) {
    ASSERT_TRUE(WriteFileAtomically(fs_, api::TokenPath(dir_.path()), token, 0600).ok());
  }
  ClientOptions Resolve(ClientInputs inputs) {
    inputs.data_dir = dir_.path();
    return ResolveClientOptions(inputs, fs_);
  }

  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
};

TEST_F(ClientOptionsTest, UrlFlagWinsOverEnvironmentAndListenAddress) {
  ClientOptions options = Resolve({.url_flag = "http://127.0.0.1:1",
                                   .url_env = "http://127.0.0.1:2",
                                   .listen_address = "127.0.0.1:3"});
  EXPECT_EQ(options.url, "http://127.0.0.1:1");
}

TEST_F(ClientOptionsTest, EnvironmentWinsOverListenAddress) {
  ClientOptions options =
      Resolve({.url_env = "http://127.0.0.1:2", .listen_address = "127.0.0.1:3"});
  EXPECT_EQ(options.url, "http://127.0.0.1:2");
}

TEST_F(ClientOptionsTest, ListenAddressThenDefault) {
  EXPECT_EQ(Resolve({.listen_address = "0.0.0.0:7400"}).url, "http://127.0.0.1:7400");
  EXPECT_EQ(Resolve({}).url, "http://127.0.0.1:7300");
}

TEST_F(ClientOptionsTest, TokenFlagThenEnvironmentThenFile) {
  WriteToken(std::string(64, 'f'));
  ClientOptions flag = Resolve({.token_flag = "from-flag", .token_env = "from-env"});
  EXPECT_EQ(flag.token, "from-flag");
  EXPECT_EQ(flag.token_source, "--token");
  ClientOptions env = Resolve({.token_env = "from-env"});
  EXPECT_EQ(env.token, "from-env");
  EXPECT_EQ(env.token_source, "REBOUND_TOKEN");
  ClientOptions file = Resolve({});
  EXPECT_EQ(file.token, std::string(64, 'f'));
  EXPECT_EQ(file.token_source, api::TokenPath(dir_.path()));
}

TEST_F(ClientOptionsTest, MissingTokenFileLeavesTokenEmptyAndSaysWhere) {
  ClientOptions options = Resolve({});
  EXPECT_EQ(options.token, "");
  EXPECT_EQ(options.token_source, api::TokenPath(dir_.path()) + " (not found)");
}

TEST_F(ClientOptionsTest, MalformedTokenFileIsReportedInTheSource) {
  WriteToken("garbage");
  ClientOptions options = Resolve({});
  EXPECT_EQ(options.token, "");
  EXPECT_NE(options.token_source.find("(unusable: token file"), std::string::npos);
}

TEST_F(ClientOptionsTest, ColourOnlyOnATerminalAndNotForJson) {
  EXPECT_TRUE(Resolve({.stdout_is_tty = true}).color);
  EXPECT_FALSE(Resolve({.stdout_is_tty = false}).color);
  EXPECT_FALSE(Resolve({.json = true, .stdout_is_tty = true}).color);
  EXPECT_TRUE(Resolve({.json = true}).json);
}

TEST(UrlForListenAddressTest, WildcardsBecomeLoopback) {
  EXPECT_EQ(UrlForListenAddress("127.0.0.1:7300"), "http://127.0.0.1:7300");
  EXPECT_EQ(UrlForListenAddress("0.0.0.0:7300"), "http://127.0.0.1:7300");
  EXPECT_EQ(UrlForListenAddress(":7300"), "http://127.0.0.1:7300");
  EXPECT_EQ(UrlForListenAddress("[::]:7300"), "http://[::1]:7300");
  EXPECT_EQ(UrlForListenAddress("localhost:7300"), "http://localhost:7300");
}

TEST(ParseDaemonUrlTest, AcceptsHostPortAndTrailingSlash) {
  Result<DaemonAddress> address = ParseDaemonUrl("http://127.0.0.1:7300/");
  ASSERT_TRUE(address.ok()) << address.error().ToString();
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 7300);
  EXPECT_EQ(ParseDaemonUrl("http://localhost")->port, 80);
  EXPECT_EQ(ParseDaemonUrl("http://[::1]:9")->host, "::1");
  EXPECT_EQ(ParseDaemonUrl("http://[::1]:9")->port, 9);
}

TEST(ParseDaemonUrlTest, RejectsWhatItCannotUse) {
  for (const char* url :
       {"https://127.0.0.1:7300", "127.0.0.1:7300", "http://", "http://h:0", "http://h:70000",
        "http://h:x", "http://h:", "http://h:1/v1", "http://[::1", "http://[::1]x"}) {
    Result<DaemonAddress> address = ParseDaemonUrl(url);
    ASSERT_FALSE(address.ok()) << url;
    EXPECT_EQ(address.error().category(), ErrorCategory::kValidation) << url;
  }
}

}  // namespace
}  // namespace rebound::cli

namespace rebound::cli {
namespace {

TEST(ReadProcessEnvironmentTest, ReadsNonEmptyVariables) {
  ::setenv("REBOUND_URL", "http://127.0.0.1:9", 1);
  ::setenv("REBOUND_TOKEN", "", 1);
  ClientInputs inputs;
  ReadProcessEnvironment(inputs);
  EXPECT_EQ(inputs.url_env, "http://127.0.0.1:9");
  EXPECT_EQ(inputs.token_env, std::nullopt);  // empty counts as unset
  ::unsetenv("REBOUND_URL");
  ::unsetenv("REBOUND_TOKEN");
  ReadProcessEnvironment(inputs);
  EXPECT_EQ(inputs.url_env, std::nullopt);
}

}  // namespace
}  // namespace rebound::cli
