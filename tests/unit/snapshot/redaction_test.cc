#include "snapshot/redaction.h"

#include <gtest/gtest.h>

namespace rebound::snapshot {
namespace {

TEST(RedactionTest, GlobMatchesCaseInsensitively) {
  EXPECT_TRUE(GlobMatches("*key*", "api_KEY"));
  EXPECT_TRUE(GlobMatches("*token*", "Token"));
  EXPECT_TRUE(GlobMatches("db_?ass", "DB_PASS"));
  EXPECT_TRUE(GlobMatches("*secret*", "client_SECRET"));
  EXPECT_FALSE(GlobMatches("*password*", "passwd"));
  EXPECT_FALSE(GlobMatches("key", "monkey"));
}

TEST(RedactionTest, RedactsMatchingKeysAtAnyDepthAndInArrays) {
  nlohmann::json doc = {
      {"model", "gpt-4"},
      {"OpenAI_API_Key", "sk-123"},
      {"db", {{"host", "x"}, {"Password", "hunter2"}}},
      {"peers", {{{"name", "a"}, {"auth_token", "t1"}}, {{"name", "b"}}}},
  };
  EXPECT_EQ(RedactSecrets(doc, DefaultRedactPatterns()), 3);
  EXPECT_EQ(doc["OpenAI_API_Key"], "[REDACTED]");
  EXPECT_EQ(doc["db"]["Password"], "[REDACTED]");
  EXPECT_EQ(doc["db"]["host"], "x");
  EXPECT_EQ(doc["peers"][0]["auth_token"], "[REDACTED]");
  EXPECT_EQ(doc["model"], "gpt-4");
  EXPECT_EQ(doc.dump().find("hunter2"), std::string::npos);
}

TEST(RedactionTest, RedactsAWholeSecretObject) {
  nlohmann::json doc = {{"secrets", {{"a", 1}}}};
  EXPECT_EQ(RedactSecrets(doc, DefaultRedactPatterns()), 1);
  EXPECT_EQ(doc["secrets"], "[REDACTED]");
}

TEST(RedactionTest, CustomPatternsReplaceTheDefaults) {
  nlohmann::json doc = {{"api_key", "k"}, {"pin", "1234"}};
  EXPECT_EQ(RedactSecrets(doc, {"pin"}), 1);
  EXPECT_EQ(doc["api_key"], "k");
}

TEST(RedactionTest, RestoreKeepsCurrentSecretsWhereTheSnapshotHasTheMarker) {
  const nlohmann::json snapshot = {{"model", "gpt-3"}, {"db", {{"password", "[REDACTED]"}}}};
  const nlohmann::json current = {{"model", "gpt-4"}, {"db", {{"password", "live"}}}};
  const nlohmann::json merged = KeepRedactedValues(snapshot, current);
  EXPECT_EQ(merged["model"], "gpt-3");
  EXPECT_EQ(merged["db"]["password"], "live");
  EXPECT_EQ(KeepRedactedValues(snapshot, nullptr)["db"]["password"], "[REDACTED]");
}

}  // namespace
}  // namespace rebound::snapshot
