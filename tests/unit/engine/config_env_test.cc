// The OS side of config loading: ProcessEnvironment and CurrentDirectory.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/config.h"
#include "testing/temp_dir.h"

namespace rebound::engine {
namespace {

TEST(ConfigEnvTest, ProcessEnvironmentHoldsTheVariablesOfThisProcess) {
  ASSERT_EQ(::setenv("REBOUND_CONFIG_ENV_TEST", "a=b", 1), 0);
  const std::map<std::string, std::string> env = ProcessEnvironment();
  ::unsetenv("REBOUND_CONFIG_ENV_TEST");
  ASSERT_TRUE(env.contains("REBOUND_CONFIG_ENV_TEST"));
  EXPECT_EQ(env.at("REBOUND_CONFIG_ENV_TEST"), "a=b");  // only the first '=' separates
}

TEST(ConfigEnvTest, CurrentDirectoryFollowsChdir) {
  const std::string original = *CurrentDirectory();
  testing::TempDir dir;
  ASSERT_EQ(::chdir(dir.path().c_str()), 0);
  auto cwd = CurrentDirectory();
  ASSERT_EQ(::chdir(original.c_str()), 0);
  ASSERT_TRUE(cwd.ok()) << cwd.error().message();
  EXPECT_EQ(*cwd, dir.path());
}

TEST(ConfigEnvTest, DeletedCurrentDirectoryIsAnErrorForRelativeConfigPaths) {
  const std::string original = *CurrentDirectory();
  testing::TempDir dir;
  const std::string doomed = dir.Path("gone");
  ASSERT_EQ(::mkdir(doomed.c_str(), 0755), 0);
  ASSERT_EQ(::chdir(doomed.c_str()), 0);
  ASSERT_EQ(::rmdir(doomed.c_str()), 0);
  auto cwd = CurrentDirectory();
  auto relative = ParseConfig("[services.a]\ncommand = [\"a\"]\n", "rebound.toml", {});
  auto absolute = ParseConfig("[services.a]\ncommand = [\"a\"]\n", "/r/rebound.toml", {});
  ASSERT_EQ(::chdir(original.c_str()), 0);

  ASSERT_FALSE(cwd.ok());
  EXPECT_EQ(cwd.error().category(), ErrorCategory::kNotFound);
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().message(),
            "resolving rebound.toml: getcwd: No such file or directory");
  EXPECT_TRUE(absolute.ok());  // an absolute path never needs the current directory
}

}  // namespace
}  // namespace rebound::engine
