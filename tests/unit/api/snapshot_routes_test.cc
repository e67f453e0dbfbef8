#include "api/snapshot_routes.h"

#include <gtest/gtest.h>

namespace rebound::api {
namespace {

TEST(SnapshotRoutesTest, ParsesEachSelectorAndDryRun) {
  auto newest = ParseRecoverRequest(nullptr);
  ASSERT_TRUE(newest.ok());
  EXPECT_FALSE(newest->selector.commit || newest->selector.tag || newest->selector.at_ms);
  EXPECT_FALSE(newest->dry_run);
  EXPECT_EQ(*ParseRecoverRequest({{"commit", "abc123"}})->selector.commit, "abc123");
  EXPECT_EQ(*ParseRecoverRequest({{"tag", "good"}})->selector.tag, "good");
  EXPECT_EQ(*ParseRecoverRequest({{"at", "2026-01-01T00:00:00Z"}})->selector.at_ms, 1767225600000);
  EXPECT_TRUE(ParseRecoverRequest({{"dry_run", true}})->dry_run);
}

TEST(SnapshotRoutesTest, RefusesBadBodiesNamingTheField) {
  struct Case {
    nlohmann::json body;
    const char* mentions;
  };
  for (const Case& c : std::vector<Case>{{{{"commit", 12}}, "\"commit\""},
                                         {{{"tag", ""}}, "\"tag\""},
                                         {{{"at", "noon"}}, "\"at\""},
                                         {{{"dry_run", "yes"}}, "\"dry_run\""},
                                         {{{"tag", "a"}, {"at", "1"}}, "at most one"},
                                         {nlohmann::json::array(), "JSON object"}}) {
    auto parsed = ParseRecoverRequest(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body.dump();
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kValidation);
    EXPECT_NE(parsed.error().message().find(c.mentions), std::string::npos)
        << parsed.error().message();
  }
}

TEST(SnapshotRoutesTest, PruneTakesAnOptionalPositiveKeep) {
  EXPECT_FALSE(ParsePruneRequest(nullptr)->has_value());
  EXPECT_FALSE(ParsePruneRequest(nlohmann::json::object())->has_value());
  EXPECT_EQ(**ParsePruneRequest({{"keep", 30}}), 30);
  for (const nlohmann::json& bad : {nlohmann::json{{"keep", 0}}, nlohmann::json{{"keep", "3"}},
                                    nlohmann::json{{"keep", 2.5}}, nlohmann::json::array()}) {
    auto parsed = ParsePruneRequest(bad);
    ASSERT_FALSE(parsed.ok()) << bad.dump();
    EXPECT_EQ(parsed.error().category(), ErrorCategory::kValidation);
  }
}

}  // namespace
}  // namespace rebound::api
