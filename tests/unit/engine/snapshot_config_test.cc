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

TEST(SnapshotConfigTest, DocumentPathCommitsIntoTheApplicationsRepositoryAtPath) {
  auto config = ParseSnapshots(
      "[snapshots]\npath = \"/srv/app\"\ndocument_path = \"config/recovery.json\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->snapshots.repository_path, "/srv/app");
  EXPECT_EQ(config->snapshots.document_path, "config/recovery.json");
  EXPECT_EQ(ParseSnapshots("")->snapshots.document_path, "");
}

TEST(SnapshotConfigTest, DocumentPathNeedsPathRefusesKeepAndBadPaths) {
  auto no_path = ParseSnapshots("[snapshots]\ndocument_path = \"config/recovery.json\"\n");
  ASSERT_FALSE(no_path.ok());
  EXPECT_NE(no_path.error().message().find("rebound.toml"), std::string::npos);
  EXPECT_NE(no_path.error().message().find("snapshots.document_path: needs snapshots.path"),
            std::string::npos)
      << no_path.error().message();
  auto keep = ParseSnapshots(
      "[snapshots]\npath = \"/srv/app\"\ndocument_path = \"recovery.json\"\nkeep = 5\n");
  ASSERT_FALSE(keep.ok());
  EXPECT_NE(keep.error().message().find("snapshots.keep: cannot be used with"), std::string::npos)
      << keep.error().message();
  for (const std::string bad : {"/abs.json", "../up.json", ".git/config", "a//b.json"}) {
    auto config =
        ParseSnapshots("[snapshots]\npath = \"/srv/app\"\ndocument_path = \"" + bad + "\"\n");
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_NE(config.error().message().find("snapshots.document_path"), std::string::npos)
        << config.error().message();
  }
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

TEST(SnapshotConfigTest, ReadsModuleSourcesAndRestoreTargets) {
  auto config = ParseSnapshots(
      "[snapshots.modules.llm]\n"
      "source = { url = \"http://127.0.0.1:8080/state\" }\n"
      "restore = { command = [\"./load\", \"--stdin\"] }\n"
      "timeout = \"2s\"\n"
      "required = true\n"
      "[snapshots.modules.cache]\n"
      "source = { file = \"state/cache.json\" }\n"
      "restore = { file = \"state/cache.json\" }\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  const snapshot::ModuleBinding& llm = config->snapshots.modules.at("llm");
  EXPECT_TRUE(llm.required);
  EXPECT_EQ(llm.source->kind, snapshot::EndpointKind::kUrl);
  EXPECT_EQ(llm.source->location, "http://127.0.0.1:8080/state");
  EXPECT_EQ(llm.source->timeout, std::chrono::seconds(2));
  EXPECT_EQ(llm.restore->command, (std::vector<std::string>{"./load", "--stdin"}));
  EXPECT_EQ(llm.restore->timeout, std::chrono::seconds(2));
  const snapshot::ModuleBinding& cache = config->snapshots.modules.at("cache");
  EXPECT_FALSE(cache.required);
  EXPECT_EQ(cache.source->location, "/etc/rebound/state/cache.json");
  EXPECT_EQ(cache.restore->timeout, std::chrono::seconds(5));
}

TEST(SnapshotConfigTest, ModuleErrorsNameTheKeyAndTheFix) {
  const auto error = [](const std::string& text) {
    auto config = ParseSnapshots(text);
    return config.ok() ? std::string("accepted") : config.error().message();
  };
  EXPECT_NE(error("[snapshots.modules.llm]\nsource = { url = \"ftp://x\" }\n")
                .find("snapshots.modules.llm.source.url: must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.llm]\nsource = { url = \"http://a\", file = \"b\" }\n")
                .find("must have exactly one of url, file, command"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.llm]\nsource = { command = [] }\n")
                .find("snapshots.modules.llm.source.command: must be a non-empty array"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.llm]\nrequired = true\nrestore = { file = \"x\" }\n")
                .find("snapshots.modules.llm.required: needs a source"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.llm]\ntimeout = \"1s\"\n").find("needs a source, a restore"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.llm]\nsorce = { file = \"x\" }\n").find("source"),
            std::string::npos);
  EXPECT_NE(error("[snapshots.modules.\"bad name\"]\nsource = { file = \"x\" }\n")
                .find("snapshots.modules.bad name"),
            std::string::npos);
}

TEST(SnapshotConfigTest, ReadsTriggersAndVerifyTimeout) {
  auto defaults = ParseSnapshots("");
  EXPECT_FALSE(defaults->snapshots.before_recovery);
  EXPECT_TRUE(defaults->snapshots.on_events.empty());
  EXPECT_EQ(defaults->snapshots.trigger_interval, std::chrono::minutes(1));
  EXPECT_EQ(defaults->snapshots.verify_timeout, std::chrono::seconds(30));
  auto config = ParseSnapshots(
      "[snapshots]\nbefore_recovery = true\non_events = [\"service.fatal\", \"daemon.reloaded\"]\n"
      "trigger_interval = \"5m\"\nverify_timeout = \"0\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_TRUE(config->snapshots.before_recovery);
  EXPECT_EQ(config->snapshots.on_events,
            (std::vector<std::string>{"service.fatal", "daemon.reloaded"}));
  EXPECT_EQ(config->snapshots.trigger_interval, std::chrono::minutes(5));
  EXPECT_EQ(config->snapshots.verify_timeout, Duration::zero());
  auto no_dot = ParseSnapshots("[snapshots]\non_events = [\"fatal\"]\n");
  ASSERT_FALSE(no_dot.ok());
  EXPECT_NE(no_dot.error().message().find("snapshots.on_events: each must be \"category.kind\""),
            std::string::npos)
      << no_dot.error().message();
  auto loop = ParseSnapshots("[snapshots]\non_events = [\"snapshot.captured\"]\n");
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.error().message().find("cannot trigger a capture"), std::string::npos);
  // Job transitions are journaled with the jobs' own writes, not through the daemon: refused
  // rather than accepted and never fired.
  auto job = ParseSnapshots("[snapshots]\non_events = [\"job.failed\"]\n");
  ASSERT_FALSE(job.ok());
  EXPECT_NE(job.error().message().find("only \"service.*\" and \"daemon.*\""), std::string::npos)
      << job.error().message();
}

}  // namespace
}  // namespace rebound::engine
