#include "engine/sync_config.h"

#include <gtest/gtest.h>

#include "engine/config.h"

namespace rebound::engine {
namespace {

constexpr std::string_view kSyncConfigPrefix =
    "[services.api]\ncommand = [\"./api\"]\n"
    "[snapshots.modules.llm]\n"
    "source = { url = \"http://127.0.0.1:9/state\" }\n"
    "restore = { url = \"http://127.0.0.1:9/state\" }\n"
    "[snapshots.modules.readonly]\n"
    "source = { file = \"state.json\" }\n";

Result<Config> ParseWithSync(const std::string& sync) {
  return ParseConfig(std::string(kSyncConfigPrefix) + sync, "/etc/rebound/rebound.toml", {});
}

TEST(SyncConfigTest, OffWithoutASyncTable) {
  auto config = ParseWithSync("");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_FALSE(config->sync.enabled);
  EXPECT_TRUE(config->sync.modules.empty());
}

TEST(SyncConfigTest, AnEmptyTableSyncsEveryModuleWithSourceAndRestoreEvery30sNewestWins) {
  auto config = ParseWithSync("[sync]\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_TRUE(config->sync.enabled);
  EXPECT_EQ(config->sync.interval, std::chrono::seconds(30));
  EXPECT_EQ(config->sync.strategy, store::SyncStrategy::kNewestWins);
  EXPECT_EQ(config->sync.modules, std::vector<std::string>{"llm"});
}

TEST(SyncConfigTest, ReadsIntervalStrategyAndModules) {
  auto config =
      ParseWithSync("[sync]\ninterval = \"0\"\nstrategy = \"memory-wins\"\nmodules = [\"llm\"]\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->sync.interval, Duration::zero());
  EXPECT_EQ(config->sync.strategy, store::SyncStrategy::kMemoryWins);
  EXPECT_EQ(config->sync.modules, std::vector<std::string>{"llm"});
}

TEST(SyncConfigTest, RefusesAnUnknownStrategyNamingTheChoices) {
  auto config = ParseWithSync("[sync]\nstrategy = \"disk-wins\"\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find("rebound.toml"), std::string::npos);
  EXPECT_NE(config.error().message().find("sync.strategy"), std::string::npos);
  EXPECT_NE(config.error().message().find("persistent-wins"), std::string::npos)
      << config.error().message();
}

TEST(SyncConfigTest, RefusesAModuleWithoutARestoreEndpoint) {
  auto config = ParseWithSync("[sync]\nmodules = [\"readonly\"]\n");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find("sync.modules"), std::string::npos);
  EXPECT_NE(config.error().message().find("needs both source and restore"), std::string::npos)
      << config.error().message();
}

TEST(SyncConfigTest, RefusesAnUndeclaredModuleAndATooShortInterval) {
  auto missing = ParseWithSync("[sync]\nmodules = [\"ghost\"]\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("[snapshots.modules.ghost]"), std::string::npos)
      << missing.error().message();
  auto too_often = ParseWithSync("[sync]\ninterval = \"10ms\"\n");
  ASSERT_FALSE(too_often.ok());
  EXPECT_NE(too_often.error().message().find("at least \"1s\""), std::string::npos);
}

TEST(SyncConfigTest, SyncWithNothingToSyncIsAnError) {
  auto config = ParseConfig("[services.api]\ncommand = [\"./api\"]\n[sync]\n",
                            "/etc/rebound/rebound.toml", {});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find("no module has both a source and a restore"),
            std::string::npos)
      << config.error().message();
}

}  // namespace
}  // namespace rebound::engine
