#include "engine/desired_state.h"

#include <gtest/gtest.h>

namespace rebound::engine {
namespace {

TEST(DesiredStateTest, TheRunDirSurvivesTheRoundTripAndIsLeftOutWhenUnset) {
  DesiredState state;
  EXPECT_FALSE(state.ToJson().contains("run_dir"));  // records written before it existed
  EXPECT_TRUE(state.SetRunDir("/dev/shm/rebound"));
  EXPECT_FALSE(state.SetRunDir("/dev/shm/rebound"));
  const DesiredState read = DesiredState::FromJson(state.ToJson());
  EXPECT_EQ(read.run_dir(), "/dev/shm/rebound");
  EXPECT_EQ(DesiredState::FromJson({{"stopped_by_hand", {"a"}}}).run_dir(), "");
}

}  // namespace
}  // namespace rebound::engine
