// Splicing stored module states: the spliced document must be byte for byte the one the
// parse-and-dump path writes, and anything the splice cannot vouch for goes the parsing way.

#include "snapshot/json_splice.h"

#include <gtest/gtest.h>

#include "snapshot/recovery_document.h"
#include "snapshot/redaction.h"

namespace rebound::snapshot {
namespace {

const std::vector<nlohmann::json>& Samples() {
  static const std::vector<nlohmann::json> samples = {
      nlohmann::json::object(),
      nlohmann::json::array(),
      42,
      "text",
      nullptr,
      {{"a", 1}, {"b", {1, 2.5, -3e-7, true, false, nullptr}}, {"c", nlohmann::json::object()}},
      {{"nested", {{"deeper", {{"deepest", nlohmann::json::array({nlohmann::json::array()})}}}}}},
      {{"escapes", "quote \" backslash \\ newline \n tab \t ctrl \x01 brace { comma , colon :"}},
      {{"unicode", "héllo – 日本 \xF0\x9F\x98\x80"}, {"big", 18446744073709551615ULL}},
      {{"items", {"1-2", "3-4", {{"k", "v"}}, nlohmann::json::array({1, {{"x", nullptr}}})}}},
  };
  return samples;
}

TEST(JsonSpliceTest, IndentedTextIsWhatDumpWritesAtThatDepth) {
  for (const nlohmann::json& sample : Samples()) {
    std::string top;
    AppendIndented(sample.dump(), 0, top);
    EXPECT_EQ(top, sample.dump(2)) << sample.dump();
  }
}

TEST(JsonSpliceTest, ASplicedDocumentHasTheSameBytesAsAParsedOne) {
  RecoveryDocument parsed{.timestamp_ms = 1'700'000'000'123,
                          .rebound_version = "1.2.3",
                          .parent_commit = "abc",
                          .services = {{"api", {.state = "running", .restarts = 2}}}};
  RecoveryDocument spliced = parsed;
  std::map<std::string, std::string> texts;
  int index = 0;
  for (const nlohmann::json& sample : Samples()) {
    const std::string module = "module_" + std::to_string(index++);
    parsed.module_states[module] = sample;
    ASSERT_TRUE(IsSpliceable(sample.dump(), DefaultRedactPatterns())) << sample.dump();
    texts[module] = sample.dump();
  }
  EXPECT_EQ(SerializeRecoveryDocument(spliced, texts), SerializeRecoveryDocument(parsed));
  EXPECT_EQ(SerializeRecoveryDocument(spliced, {}), SerializeRecoveryDocument(spliced));
}

TEST(JsonSpliceTest, SecretKeysEscapedKeysAndNonCompactTextAreNotSpliced) {
  const auto& patterns = DefaultRedactPatterns();
  EXPECT_FALSE(IsSpliceable(R"({"db":{"Password":"x"}})", patterns));
  EXPECT_FALSE(IsSpliceable(R"([{"api_key":1}])", patterns));
  EXPECT_FALSE(IsSpliceable(R"({"pass\u0077ord":"x"})", patterns));  // a key only after unescaping
  EXPECT_FALSE(IsSpliceable(R"({"a": 1})", patterns));                // not a compact dump()
  EXPECT_FALSE(IsSpliceable(R"({"a":"unterminated})", patterns));
  EXPECT_FALSE(IsSpliceable(R"({"a":[1})", patterns));
  EXPECT_FALSE(IsSpliceable("", patterns));
  // Balanced and compact, but not JSON: a damaged stored row goes the parsing way.
  for (const char* damaged : {R"({"a":tru})", R"({"a":1,})", R"({"a"})", R"([1,,2])",
                              R"({"a":1}{"b":2})", R"({"a":01})", "nul", R"({"a":"x"]})"}) {
    EXPECT_FALSE(IsSpliceable(damaged, patterns)) << damaged;
  }
  // A secret-looking *value* is fine: only keys are redacted.
  EXPECT_TRUE(IsSpliceable(R"({"note":"my password is in the vault"})", patterns));
  EXPECT_TRUE(IsSpliceable(R"({"a":"with space, and: {braces}"})", patterns));
}

}  // namespace
}  // namespace rebound::snapshot
