#include "store/module_state.h"

#include <gtest/gtest.h>

#include "base/manual_clock.h"
#include "store/store.h"

namespace rebound::store {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ModuleStateTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(*Store::OpenInMemory(clock_)); }
  ModuleStateStore& states() { return store_->states(); }

  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(ModuleStateTest, PutThenGetWithVersionAndTime) {
  auto put = states().Put("llm_orchestrator", {{"current_model", "gpt-4"}}, std::nullopt).get();
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->version, 1);
  auto got = states().Get("llm_orchestrator");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->document["current_model"], "gpt-4");
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->updated_at_ms, ToUnixMillis(clock_.WallNow()));
}

TEST_F(ModuleStateTest, CompareAndSetRejectsAStaleWriter) {
  auto v1 = *states().Put("m", {{"n", 1}}, std::nullopt).get();
  auto v2 = states().Put("m", {{"n", 2}}, v1.version).get();
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  auto stale = states().Put("m", {{"n", 3}}, v1.version).get();
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().category(), ErrorCategory::kConflict);
  EXPECT_EQ(stale.error().message(),
            "module state 'm' is at version 2, not the expected 1; read it again and retry");
  EXPECT_EQ(states().Get("m")->document["n"], 2);
}

TEST_F(ModuleStateTest, ExpectedVersionZeroMeansCreateOnly) {
  EXPECT_TRUE(states().Put("m", json::object(), 0).get().ok());
  auto again = states().Put("m", json::object(), 0).get();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().category(), ErrorCategory::kConflict);
}

TEST_F(ModuleStateTest, ListAndDelete) {
  (void)states().Put("b", {{"x", 1}}, std::nullopt).get();
  (void)states().Put("a", {{"x", 2}}, std::nullopt).get();
  auto all = *states().List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].module, "a");
  EXPECT_EQ(states().Delete("a", 5).get().error().category(), ErrorCategory::kConflict);
  EXPECT_TRUE(states().Delete("a", 1).get().ok());
  EXPECT_EQ(states().Get("a").error().category(), ErrorCategory::kNotFound);
  EXPECT_EQ(states().Delete("zzz", std::nullopt).get().error().category(),
            ErrorCategory::kNotFound);
}

TEST_F(ModuleStateTest, ListTextGivesTheStoredCompactJsonUnparsed) {
  const nlohmann::json b = {{"z", 1}, {"a", {{"k", "v w"}}}};
  ASSERT_TRUE(states().Put("b", b, std::nullopt).get().ok());
  ASSERT_TRUE(states().Put("a", nlohmann::json::array(), std::nullopt).get().ok());
  auto texts = states().ListText();
  ASSERT_TRUE(texts.ok()) << texts.error().message();
  ASSERT_EQ(texts->size(), 2u);
  EXPECT_EQ((*texts)[0], std::make_pair(std::string("a"), std::string("[]")));
  EXPECT_EQ((*texts)[1], std::make_pair(std::string("b"), b.dump()));  // keys sorted, compact
}

TEST_F(ModuleStateTest, InvalidModuleNamesAreRejected) {
  for (const char* bad : {"", "has space", "slash/name", "semi;colon"}) {
    auto put = states().Put(bad, json::object(), std::nullopt).get();
    ASSERT_FALSE(put.ok()) << bad;
    EXPECT_EQ(put.error().category(), ErrorCategory::kValidation);
  }
  EXPECT_TRUE(ValidateModuleName("suno_service.v2-beta").ok());
}

}  // namespace
}  // namespace rebound::store
