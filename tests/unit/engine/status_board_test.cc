#include "engine/status_board.h"

#include <gtest/gtest.h>

namespace rebound::engine {
namespace {

using namespace std::chrono_literals;

std::vector<ServiceStatus> Services(const std::string& api_state) {
  return {{.name = "api", .state = api_state}, {.name = "db", .state = "running"}};
}

TEST(StatusBoardTest, StartsEmptyAtVersionZero) {
  StatusBoard board;
  EXPECT_EQ(board.Current()->version, 0u);
  EXPECT_TRUE(board.Current()->services.empty());
}

TEST(StatusBoardTest, AChangedStatusIsANewVersion) {
  StatusBoard board;
  EXPECT_TRUE(board.Publish(Services("running")));
  std::shared_ptr<const ServicesSnapshot> first = board.Current();
  EXPECT_EQ(first->version, 1u);
  EXPECT_TRUE(board.Publish(Services("backoff")));
  EXPECT_EQ(board.Current()->version, 2u);
  EXPECT_EQ(board.Current()->services[0].state, "backoff");
  EXPECT_EQ(first->services[0].state, "running");  // a reader's snapshot never changes
}

TEST(StatusBoardTest, AnEqualPublishKeepsTheVersion) {
  StatusBoard board;
  ASSERT_TRUE(board.Publish(Services("running")));
  EXPECT_FALSE(board.Publish(Services("running")));
  EXPECT_EQ(board.Current()->version, 1u);
}

TEST(StatusBoardTest, UptimeAloneIsNoChangeAndIsDerivedFromRunningSince) {
  StatusBoard board;
  const WallTime started = WallTime(1700000000s);
  std::vector<ServiceStatus> services = {
      {.name = "api", .state = "running", .uptime_seconds = 1, .running_since = started}};
  ASSERT_TRUE(board.Publish(services));
  services[0].uptime_seconds = 2;
  EXPECT_FALSE(board.Publish(services));
  EXPECT_EQ(board.Current()->services[0].uptime_seconds, 0);
  std::vector<ServiceStatus> now = WithUptimes(*board.Current(), started + 90s);
  EXPECT_DOUBLE_EQ(now[0].uptime_seconds, 90);
}

TEST(StatusBoardTest, APublishAfterTheFirstOfAnEmptyListIsVersionOne) {
  StatusBoard board;
  EXPECT_TRUE(board.Publish({}));  // even "no services" is a published state
  EXPECT_EQ(board.Current()->version, 1u);
}

}  // namespace
}  // namespace rebound::engine
