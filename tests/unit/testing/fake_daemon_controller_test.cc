#include "testing/fake_daemon_controller.h"

#include <gtest/gtest.h>

namespace rebound::testing {
namespace {

TEST(FakeDaemonControllerTest, InfoIsWhatWasSet) {
  FakeDaemonController daemon;
  daemon.SetInfo({.version = "9.9.9", .config_digest = "abc"});
  EXPECT_EQ(daemon.Info().version, "9.9.9");
  EXPECT_EQ(daemon.Info().config_digest, "abc");
}

TEST(FakeDaemonControllerTest, ReloadReturnsTheScriptedResultAndCountsCalls) {
  FakeDaemonController daemon;
  EXPECT_TRUE(daemon.Reload().ok());  // an empty outcome by default
  daemon.SetReloadResult(engine::ReloadOutcome{.added = {"a"}});
  EXPECT_EQ(daemon.Reload()->added, std::vector<std::string>{"a"});
  daemon.SetReloadResult(ValidationError("bad"));
  EXPECT_EQ(daemon.Reload().error().category(), ErrorCategory::kValidation);
  EXPECT_EQ(daemon.reload_calls(), 3);
}

}  // namespace
}  // namespace rebound::testing
