#include "snapshot/recovery_plan.h"

#include <gtest/gtest.h>

namespace rebound::snapshot {
namespace {

TEST(RecoveryPlanTest, RestoresChangedModulesCreatesMissingOnesAndSkipsEqualOnes) {
  RecoveryDocument doc;
  doc.module_states["a"] = {{"v", 1}};
  doc.module_states["b"] = {{"v", 2}};
  doc.module_states["c"] = {{"v", 3}};
  const std::vector<store::ModuleState> now = {
      {.module = "a", .document = {{"v", 9}}, .version = 4},
      {.module = "b", .document = {{"v", 2}}, .version = 7},
      {.module = "z", .document = {{"v", 0}}, .version = 1},
  };
  const RecoveryPlan plan = BuildRecoveryPlan(doc, now, {});
  ASSERT_EQ(plan.modules.size(), 3u);
  EXPECT_EQ(plan.modules[0].action, "restore");
  EXPECT_EQ(plan.modules[0].current_version, 4);
  EXPECT_EQ(plan.modules[1].action, "unchanged");
  EXPECT_EQ(plan.modules[2].action, "create");
  EXPECT_EQ(plan.modules[2].current_version, 0);
}

TEST(RecoveryPlanTest, ARedactedSecretDoesNotCountAsAChange) {
  RecoveryDocument doc;
  doc.module_states["a"] = {{"token", "[REDACTED]"}};
  const RecoveryPlan plan =
      BuildRecoveryPlan(doc, {{.module = "a", .document = {{"token", "live"}}, .version = 1}}, {});
  EXPECT_EQ(plan.modules[0].action, "unchanged");
  EXPECT_EQ(plan.modules[0].target["token"], "live");
}

TEST(RecoveryPlanTest, StartsServicesRecordedRunningThatAreNowDown) {
  RecoveryDocument doc;
  doc.services["up"] = {.state = "running"};
  doc.services["down"] = {.state = "running"};
  doc.services["was_stopped"] = {.state = "stopped"};
  doc.services["retrying"] = {.state = "running"};
  doc.services["gone"] = {.state = "running"};
  doc.services["stopping"] = {.state = "running"};
  const RecoveryPlan plan = BuildRecoveryPlan(doc, {},
                                              {{"up", "running"},
                                               {"down", "fatal"},
                                               {"was_stopped", "stopped"},
                                               {"retrying", "backoff"},
                                               {"stopping", "stopping"}});
  std::map<std::string, std::string> actions;
  for (const ServiceAction& action : plan.services) {
    actions[action.name] = action.action;
  }
  EXPECT_EQ(actions["up"], "none");
  EXPECT_EQ(actions["down"], "start");
  EXPECT_EQ(actions["was_stopped"], "none");
  EXPECT_EQ(actions["retrying"], "none");
  EXPECT_EQ(actions["gone"], "unknown");
  EXPECT_EQ(actions["stopping"], "start");  // on its way down (a stop just asked): back up
  EXPECT_EQ(RecoveryPlanToJson(plan)["services"].size(), 6u);
}

}  // namespace
}  // namespace rebound::snapshot
