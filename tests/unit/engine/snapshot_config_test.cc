#include "engine/snapshot_config.h"

#include <gtest/gtest.h>

#include "engine/config.h"

namespace rebound::engine {
namespace {

constexpr std::string_view kSnapshotService = "[services.api]\ncommand = [\"./api\"]\n";

Result<Config> ParseSnapshots(const std::string& snapshots) {
  return ParseConfig(std::string(kSnapshotService) + snapshots, "/etc/rebound/rebound.toml", {});
}

TEST(SnapshotConfigTest, DefaultsToTheDataDirAndTheFourPatterns) {
  auto config = ParseSnapshots("");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(SnapshotRepositoryPath(config->snapshots, config->daemon.data_dir),
            config->daemon.data_dir + "/snapshots");
  EXPECT_EQ(config->snapshots.redact,
            (std::vector<std::string>{"*key*", "*token*", "*secret*", "*password*"}));
}

TEST(SnapshotConfigTest, ReadsPathRelativeToTheConfigAndRedactPatterns) {
  auto config = ParseSnapshots("[snapshots]\npath = \"../backup/snaps\"\nredact = [\"*pin*\"]\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(SnapshotRepositoryPath(config->snapshots, config->daemon.data_dir),
            "/etc/backup/snaps");
  EXPECT_EQ(config->snapshots.redact, std::vector<std::string>{"*pin*"});
}

TEST(SnapshotConfigTest, ReadsIntervalAndOnShutdownWhichDefaultToOff) {
  auto defaults = ParseSnapshots("");
  EXPECT_EQ(defaults->snapshots.interval, Duration::zero());
  EXPECT_FALSE(defaults->snapshots.on_shutdown);
  auto config = ParseSnapshots("[snapshots]\ninterval = \"1h\"\non_shutdown = true\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->snapshots.interval, std::chrono::hours(1));
  EXPECT_TRUE(config->snapshots.on_shutdown);
  auto remote = ParseSnapshots("[snapshots]\nremote = \"file:///backup/r.git\"\n");
  ASSERT_TRUE(remote.ok()) << remote.error().message();
  EXPECT_EQ(remote->snapshots.remote, "file:///backup/r.git");
  auto not_a_url = ParseSnapshots("[snapshots]\nremote = \"/backup/r.git\"\n");
  ASSERT_FALSE(not_a_url.ok());
  EXPECT_NE(not_a_url.error().message().find("must be a git URL"), std::string::npos);
  auto too_often = ParseSnapshots("[snapshots]\ninterval = \"10ms\"\n");
  ASSERT_FALSE(too_often.ok());
  EXPECT_NE(too_often.error().message().find("at least \"1s\""), std::string::npos)
      << too_often.error().message();
}

TEST(SnapshotConfigTest, KeepDefaultsToEverythingAndRefusesANegativeCount) {
  EXPECT_EQ(ParseSnapshots("")->snapshots.keep, 0);
  auto config = ParseSnapshots("[snapshots]\nkeep = 30\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->snapshots.keep, 30);
  auto negative = ParseSnapshots("[snapshots]\nkeep = -1\n");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message().find("snapshots.keep"), std::string::npos)
      << negative.error().message();
  EXPECT_FALSE(ParseSnapshots("[snapshots]\nkeep = \"ten\"\n").ok());
}

TEST(SnapshotConfigTest, ErrorsNameTheLineTheKeyAndTheFix) {
  auto misspelt = ParseSnapshots("[snapshots]\nredcat = []\n");
  ASSERT_FALSE(misspelt.ok());
  EXPECT_NE(misspelt.error().message().find("rebound.toml:4"), std::string::npos)
      << misspelt.error().message();
  EXPECT_NE(misspelt.error().message().find("redact"), std::string::npos);
  auto bad_patterns = ParseSnapshots("[snapshots]\nredact = \"*key*\"\n");
  ASSERT_FALSE(bad_patterns.ok());
  EXPECT_NE(bad_patterns.error().message().find("snapshots.redact: must be an array"),
            std::string::npos)
      << bad_patterns.error().message();
  auto empty_path = ParseSnapshots("[snapshots]\npath = \"\"\n");
  ASSERT_FALSE(empty_path.ok());
  EXPECT_NE(empty_path.error().message().find("snapshots.path: must not be empty"),
            std::string::npos)
      << empty_path.error().message();
}

}  // namespace
}  // namespace rebound::engine
