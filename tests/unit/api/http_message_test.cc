#include "api/http_message.h"

#include <gtest/gtest.h>

namespace rebound::api {
namespace {

TEST(HttpStatusForTest, MapsEveryCategory) {
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kValidation), 422);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kPermission), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kResource), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kTimeout), 504);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kNetwork), 500);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kCorruption), 500);
  EXPECT_EQ(HttpStatusFor(ErrorCategory::kUnknown), 500);
}

TEST(ErrorResponseTest, CarriesCategoryNameAndMessage) {
  HttpResponse response = ErrorResponse(NotFoundError("no service named \"x\""));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body,
            nlohmann::json::parse(
                R"({"error":{"code":"not_found","message":"no service named \"x\""}})"));
}

TEST(ErrorResponseTest, ExplicitStatusAndCode) {
  HttpResponse response = ErrorResponse(401, "unauthorized", "missing bearer token");
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.body["error"]["code"], "unauthorized");
  EXPECT_EQ(response.body["error"]["message"], "missing bearer token");
}

TEST(SerializeJsonTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  const std::string text = SerializeJson({{"name", std::string("bad\xff")}});
  EXPECT_EQ(text, "{\"name\":\"bad\xEF\xBF\xBD\"}");
}

TEST(ErrorCodeForStatusTest, NamesTheStatusesHttplibProduces) {
  EXPECT_EQ(ErrorCodeForStatus(400), "malformed");
  EXPECT_EQ(ErrorCodeForStatus(401), "unauthorized");
  EXPECT_EQ(ErrorCodeForStatus(404), "not_found");
  EXPECT_EQ(ErrorCodeForStatus(405), "method_not_allowed");
  EXPECT_EQ(ErrorCodeForStatus(413), "payload_too_large");
  EXPECT_EQ(ErrorCodeForStatus(414), "uri_too_long");
  EXPECT_EQ(ErrorCodeForStatus(415), "unsupported_media_type");
  EXPECT_EQ(ErrorCodeForStatus(416), "range_not_satisfiable");
  EXPECT_EQ(ErrorCodeForStatus(503), "unavailable");
  EXPECT_EQ(ErrorCodeForStatus(502), "internal");
  EXPECT_EQ(ErrorCodeForStatus(418), "bad_request");
}

TEST(HttpRequestTest, QueryParamReturnsFirstValueOrNothing) {
  HttpRequest request{.method = "GET", .path = "/x", .query = {{"ms", "5"}, {"ms", "7"}}};
  EXPECT_EQ(request.QueryParam("ms"), "5");
  EXPECT_EQ(request.QueryParam("other"), std::nullopt);
}

TEST(IfMatchTest, AcceptsStrongWeakAndBareVersions) {
  EXPECT_EQ(*ParseIfMatch("\"3\""), 3);
  EXPECT_EQ(*ParseIfMatch("W/\"4\""), 4);
  EXPECT_EQ(*ParseIfMatch("5"), 5);
}

TEST(IfMatchTest, RefusesAnythingElseNamingTheHeader) {
  for (const char* bad : {"", "\"\"", "*", "\"0\"", "\"x\"", "\"3\", \"4\""}) {
    Result<int64_t> version = ParseIfMatch(bad);
    ASSERT_FALSE(version.ok()) << bad;
    EXPECT_NE(version.error().message().find("If-Match"), std::string::npos);
  }
}

}  // namespace
}  // namespace rebound::api
