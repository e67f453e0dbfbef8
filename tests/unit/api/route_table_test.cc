#include "api/route_table.h"

#include <gtest/gtest.h>

namespace rebound::api {
namespace {

RouteHandler Returning(int status) {
  return [status](const HttpRequest&) { return JsonResponse(status, {}); };
}

int Call(const RouteMatch& match) {
  return (*match.handler)(HttpRequest{.method = "GET", .path = "/"}).status;
}

class RouteTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routes_.Add("GET", "/v1/services", Returning(1), false);
    routes_.Add("GET", "/v1/services/:name", Returning(2), false);
    routes_.Add("POST", "/v1/services/:name/start", Returning(3), true);
    routes_.Add("DELETE", "/v1/services/:name", Returning(4), false);
  }
  RouteTable routes_;
};

TEST_F(RouteTableTest, MatchesLiteralPaths) {
  RouteMatch match = routes_.Find("GET", "/v1/services");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(Call(match), 1);
  EXPECT_TRUE(match.path_params.empty());
  EXPECT_FALSE(match.accepts_json_body);
}

TEST_F(RouteTableTest, CapturesNamedSegments) {
  RouteMatch match = routes_.Find("POST", "/v1/services/api/start");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(Call(match), 3);
  EXPECT_EQ(match.path_params.at("name"), "api");
  EXPECT_TRUE(match.accepts_json_body);
}

TEST_F(RouteTableTest, WrongMethodListsTheAllowedOnes) {
  RouteMatch match = routes_.Find("PUT", "/v1/services/api");
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_EQ(match.allowed_methods, (std::vector<std::string>{"GET", "DELETE"}));
}

TEST_F(RouteTableTest, UnknownPathMatchesNothing) {
  for (const char* path : {"/v1/nothing", "/v1/services/api/explode", "/v1/services/", "",
                           "v1/services", "/v1/services//start"}) {
    RouteMatch match = routes_.Find("GET", path);
    EXPECT_EQ(match.handler, nullptr) << path;
    EXPECT_TRUE(match.allowed_methods.empty()) << path;
  }
}

TEST_F(RouteTableTest, HeadIsServedByGetRoutes) {
  RouteMatch match = routes_.Find("HEAD", "/v1/services/db");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(Call(match), 2);
  EXPECT_EQ(match.path_params.at("name"), "db");
}

}  // namespace
}  // namespace rebound::api
