#include "engine/config_diff.h"

#include <gtest/gtest.h>

namespace rebound::engine {
namespace {

using Names = std::vector<std::string>;

Config ParseConfigText(const std::string& text) {
  Result<Config> config = ParseConfig(text, "/etc/rebound/rebound.toml", {});
  EXPECT_TRUE(config.ok()) << config.error().message();
  return *config;
}

TEST(ConfigDiffTest, SortsServicesIntoAddedRemovedChangedUnchanged) {
  Config before = ParseConfigText(R"([services.db]
command = ["db"]
[services.api]
command = ["api"]
[services.legacy]
command = ["legacy"])");
  Config after = ParseConfigText(R"([services.worker]
command = ["worker"]
[services.api]
command = ["api", "--port", "9"]
[services.db]
command = ["db"])");
  ReloadOutcome outcome = DiffServices(before, after);
  EXPECT_EQ(outcome.added, Names{"worker"});
  EXPECT_EQ(outcome.removed, Names{"legacy"});
  EXPECT_EQ(outcome.changed, Names{"api"});
  EXPECT_EQ(outcome.unchanged, Names{"db"});  // moved in the file: not a change
  EXPECT_EQ(outcome.config_digest, after.digest);
}

TEST(ConfigDiffTest, ADefaultThatChangesEveryInheritingServiceChangesThem) {
  Config before =
      ParseConfigText("[defaults]\nstop_timeout = \"10s\"\n[services.a]\ncommand = [\"a\"]\n");
  Config after =
      ParseConfigText("[defaults]\nstop_timeout = \"3s\"\n[services.a]\ncommand = [\"a\"]\n");
  EXPECT_EQ(DiffServices(before, after).changed, Names{"a"});
}

}  // namespace
}  // namespace rebound::engine
