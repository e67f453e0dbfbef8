// The HTTP API end to end: HttpServer + service routes over real HTTP on 127.0.0.1, with a
// FakeServiceController behind them.

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "api/http_server.h"
#include "api/listen_socket.h"
#include "api/service_routes.h"
#include "api/token.h"
#include "http_test_util.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::api {
namespace {

using testing::RawExchange;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(HttpServerOptions{}); }

  void StartServer(const HttpServerOptions& options) {
    controller_.AddService(
        {.name = "api",
         .state = "running",
         .pid = 4242,
         .restarts = 2,
         .uptime_seconds = 12.5,
         .last_exit = nlohmann::json{{"code", 1}, {"signal", nullptr}, {"at_ms", 1700000000000}},
         .message = ""});
    controller_.AddService({.name = "cache", .state = "stopped", .required = false});
    Result<std::string> token = LoadOrCreateToken(DefaultFileSystem(), data_dir_.path());
    ASSERT_TRUE(token.ok()) << token.error().ToString();
    token_ = *token;
    server_ = std::make_unique<HttpServer>(options);
    RegisterServiceRoutes(*server_, controller_);
    server_->Get("/throws",
                 [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server_->Post("/echo", [](const HttpRequest& request) {
      return JsonResponse(200, {{"json", request.json}, {"body_bytes", request.body.size()}});
    });
    Status started = server_->Start("127.0.0.1", 0, token_);
    ASSERT_TRUE(started.ok()) << started.error().ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(5));
  }

  void TearDown() override {
    client_.reset();
    server_->Stop();
  }

  httplib::Headers Auth(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  static nlohmann::json Json(const httplib::Result& result) {
    return nlohmann::json::parse(result->body);
  }

  static void ExpectError(const httplib::Result& result, int status, const std::string& code) {
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    nlohmann::json body = Json(result);
    EXPECT_EQ(body["error"]["code"], code) << result->body;
    EXPECT_TRUE(body["error"]["message"].is_string());
  }

  testing::TempDir data_dir_;
  testing::FakeServiceController controller_;
  std::string token_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiTest, HealthIsOkWhenEveryRequiredServiceRuns) {
  auto result = client_->Get("/health");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(Json(result), nlohmann::json::parse(R"({"status": "healthy", "components": {
    "api": {"status": "healthy", "state": "running", "required": true, "message": "",
            "probe": "none", "breaker": "closed"},
    "cache": {"status": "unhealthy", "state": "stopped", "required": false, "message": "",
              "probe": "none", "breaker": "closed"}}})"));
}

TEST_F(ApiTest, HealthIs503WhenARequiredServiceIsNotRunning) {
  controller_.AddService({.name = "db", .state = "backoff", .message = "restart 3 in 400ms"});
  auto result = client_->Get("/health");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
  nlohmann::json body = Json(result);
  EXPECT_EQ(body["status"], "unhealthy");
  EXPECT_EQ(body["components"]["db"]["state"], "backoff");
  EXPECT_EQ(body["components"]["db"]["message"], "restart 3 in 400ms");
}

TEST_F(ApiTest, HealthIs503ShuttingDown) {
  controller_.SetShuttingDown(true);
  auto result = client_->Get("/health");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(Json(result)["status"], "shutting_down");
}

TEST_F(ApiTest, HealthFollowsEachStatusChangeAndRepeatsTheSameBodyOtherwise) {
  auto before = client_->Get("/health");
  ASSERT_TRUE(before);
  EXPECT_EQ(client_->Get("/health")->body, before->body);  // answered from the cache
  ASSERT_TRUE(client_->Post("/v1/services/api/stop", Auth(token_)));
  auto after = client_->Get("/health");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 503);
  EXPECT_EQ(Json(after)["components"]["api"]["state"], "stopped");
  EXPECT_EQ(after->get_header_value("Content-Type"), "application/json");
  controller_.SetShuttingDown(true);
  EXPECT_EQ(Json(client_->Get("/health"))["status"], "shutting_down");
  controller_.SetShuttingDown(false);
  EXPECT_EQ(Json(client_->Get("/health"))["status"], "unhealthy");
}

TEST_F(ApiTest, ListServicesShowsEveryField) {
  auto result = client_->Get("/v1/services");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(Json(result), nlohmann::json::parse(R"({"services": [
    {"name": "api", "state": "running", "pid": 4242, "restarts": 2, "uptime_seconds": 12.5,
     "last_exit": {"code": 1, "signal": null, "at_ms": 1700000000000}, "required": true,
     "message": "", "health": "none", "breaker": "closed", "recovery": "idle",
     "status_text": ""},
    {"name": "cache", "state": "stopped", "pid": null, "restarts": 0, "uptime_seconds": 0.0,
     "last_exit": null, "required": false, "message": "", "health": "none",
     "breaker": "closed", "recovery": "idle", "status_text": ""}]})"));
}

TEST_F(ApiTest, GetOneServiceOrNotFound) {
  auto found = client_->Get("/v1/services/api");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, 200);
  EXPECT_EQ(Json(found)["pid"], 4242);
  ExpectError(client_->Get("/v1/services/nope"), 404, "not_found");
  EXPECT_EQ(Json(client_->Get("/v1/services/nope"))["error"]["message"],
            "no service named \"nope\"");
}

TEST_F(ApiTest, StartStopRestartAnswer202WithTheService) {
  auto stop = client_->Post("/v1/services/api/stop", Auth(token_), "", "application/json");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 202);
  EXPECT_EQ(Json(stop)["state"], "stopped");
  EXPECT_TRUE(Json(stop)["pid"].is_null());
  auto start = client_->Post("/v1/services/cache/start", Auth(token_), "", "application/json");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->status, 202);
  EXPECT_EQ(Json(start)["state"], "running");
  auto restart =
      client_->Post("/v1/services/cache/restart", Auth(token_), "{}", "application/json");
  ASSERT_TRUE(restart);
  EXPECT_EQ(restart->status, 202);
  EXPECT_EQ(Json(restart)["restarts"], 1);
  EXPECT_EQ(controller_.calls(),
            (std::vector<std::string>{"stop api", "start cache", "restart cache"}));
}

TEST_F(ApiTest, ActionOnUnknownServiceIs404) {
  ExpectError(client_->Post("/v1/services/nope/restart", Auth(token_), "", "application/json"), 404,
              "not_found");
}

TEST_F(ApiTest, ControllerErrorsMapToTheirStatus) {
  controller_.FailNextCall(ValidationError("service name too long"));
  ExpectError(client_->Post("/v1/services/api/start", Auth(token_), "", "application/json"), 422,
              "validation");
  controller_.FailNextCall(ConflictError("api is already stopping"));
  ExpectError(client_->Post("/v1/services/api/stop", Auth(token_), "", "application/json"), 409,
              "conflict");
  controller_.FailNextCall(TimeoutError("engine did not answer"));
  ExpectError(client_->Get("/v1/services/api"), 504, "timeout");
}

TEST_F(ApiTest, MutationsNeedTheToken) {
  auto missing = client_->Post("/v1/services/api/restart", "", "application/json");
  ExpectError(missing, 401, "unauthorized");
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer realm=\"rebound\"");
  ExpectError(
      client_->Post("/v1/services/api/restart", Auth(std::string(64, '0')), "", "application/json"),
      401, "unauthorized");
  ExpectError(client_->Post("/v1/services/api/restart", {{"Authorization", "Basic abc"}}, "",
                            "application/json"),
              401, "unauthorized");
  EXPECT_TRUE(controller_.calls().empty());
  auto right = client_->Post("/v1/services/api/restart", {{"Authorization", "bearer " + token_}},
                             "", "application/json");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 202);
}

TEST_F(ApiTest, ReadsOnLoopbackNeedNoToken) {
  EXPECT_FALSE(server_->ReadsRequireToken());
  EXPECT_EQ(client_->Get("/v1/services")->status, 200);
}

TEST_F(ApiTest, ReadsNeedTheTokenWhenConfigured) {
  TearDown();
  StartServer(HttpServerOptions{.require_token_for_reads = true});
  EXPECT_TRUE(server_->ReadsRequireToken());
  ExpectError(client_->Get("/v1/services"), 401, "unauthorized");
  EXPECT_EQ(client_->Get("/v1/services", Auth(token_))->status, 200);
}

TEST_F(ApiTest, UnknownRouteIs404Json) {
  ExpectError(client_->Get("/v2/nothing"), 404, "not_found");
  ExpectError(client_->Post("/v2/nothing", Auth(token_), "{}", "application/json"), 404,
              "not_found");
}

TEST_F(ApiTest, WrongMethodIs405WithAllow) {
  auto result = client_->Delete("/v1/services/api", Auth(token_));
  ExpectError(result, 405, "method_not_allowed");
  EXPECT_EQ(result->get_header_value("Allow"), "GET");
  ExpectError(client_->Get("/v1/services/api/restart"), 405, "method_not_allowed");
}

TEST_F(ApiTest, BodyOverOneMebibyteIs413) {
  const std::string big(1024 * 1024 + 1, 'x');
  ExpectError(client_->Post("/echo", Auth(token_), big, "application/json"), 413,
              "payload_too_large");
  const std::string fits = "\"" + std::string(1024 * 1024 - 2, 'x') + "\"";
  auto result = client_->Post("/echo", Auth(token_), fits, "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
}

TEST_F(ApiTest, NonJsonBodyIs415) {
  ExpectError(client_->Post("/v1/services/api/restart", Auth(token_), "now", "text/plain"), 415,
              "unsupported_media_type");
  EXPECT_TRUE(controller_.calls().empty());
}

TEST_F(ApiTest, MalformedJsonBodyIs400) {
  ExpectError(client_->Post("/echo", Auth(token_), "{\"a\":", "application/json"), 400,
              "malformed");
}

TEST_F(ApiTest, JsonBodyReachesTheHandler) {
  auto result =
      client_->Post("/echo", Auth(token_), R"({"a": 1})", "application/json; charset=utf-8");
  ASSERT_TRUE(result);
  EXPECT_EQ(Json(result)["json"], nlohmann::json::parse(R"({"a": 1})"));
}

TEST_F(ApiTest, MutationsWhileShuttingDownAre503ReadsStillWork) {
  controller_.SetShuttingDown(true);
  ExpectError(client_->Post("/v1/services/api/restart", Auth(token_), "", "application/json"), 503,
              "shutting_down");
  EXPECT_TRUE(controller_.calls().empty());
  EXPECT_EQ(client_->Get("/v1/services")->status, 200);
}

TEST_F(ApiTest, HandlerExceptionIs500Json) {
  ExpectError(client_->Get("/throws"), 500, "internal");
  EXPECT_EQ(client_->Get("/health")->status, 200);  // the server lives on
}

TEST_F(ApiTest, PostWithoutContentLengthIsAnsweredAtOnce) {
  const auto started = std::chrono::steady_clock::now();
  const std::string response = RawExchange(server_->port(),
                                           "POST /v1/services/api/restart HTTP/1.1\r\nHost: x\r\n"
                                           "Authorization: Bearer " +
                                               token_ + "\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 202")) << response;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

TEST_F(ApiTest, MalformedRequestIs400Json) {
  const std::string response = RawExchange(server_->port(), "NONSENSE\r\n\r\n");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
  EXPECT_NE(response.find(R"({"error":{"code":"malformed")"), std::string::npos) << response;
}

TEST_F(ApiTest, OversizedHeaderOrUriIsRefusedWithJson) {
  const std::string header = RawExchange(
      server_->port(),
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10000, 'a') + "\r\n\r\n");
  EXPECT_TRUE(header.starts_with("HTTP/1.1 400")) << header.substr(0, 200);
  EXPECT_NE(header.find(R"({"error":{"code":"malformed")"), std::string::npos);
  const std::string uri = RawExchange(
      server_->port(), "GET /" + std::string(10000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(uri.starts_with("HTTP/1.1 414")) << uri.substr(0, 200);
  EXPECT_NE(uri.find(R"({"error":{"code":"uri_too_long")"), std::string::npos) << uri;
}

TEST_F(ApiTest, HeadAnswersWithoutBody) {
  auto result = client_->Head("/health");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_TRUE(result->body.empty());
}

TEST_F(ApiTest, ConcurrentKeepAliveClientsAreAllServed) {
  constexpr int kThreads = 16;
  constexpr int kRequestsEach = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", server_->port());
      client.set_keep_alive(true);
      for (int i = 0; i < kRequestsEach; ++i) {
        auto result = client.Get("/v1/services/api");
        ok += result && result->status == 200 ? 1 : 0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(ok, kThreads * kRequestsEach);
}

TEST_F(ApiTest, StartRefusesAnEmptyTokenABusyPortAndASecondStart) {
  HttpServer other;
  Status empty = other.Start("127.0.0.1", 0, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().category(), ErrorCategory::kValidation);

  Status busy = other.Start("127.0.0.1", server_->port(), token_);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().category(), ErrorCategory::kConflict);
  EXPECT_NE(busy.error().message().find("address already in use"), std::string::npos);

  Status again = server_->Start("127.0.0.1", 0, token_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().category(), ErrorCategory::kConflict);
}

TEST_F(ApiTest, StartRefusesABadHostOrPort) {
  HttpServer other;
  Status bad_host = other.Start("", 0, token_);
  ASSERT_FALSE(bad_host.ok());
  EXPECT_EQ(bad_host.error().category(), ErrorCategory::kValidation);
  Status bad_port = other.Start("127.0.0.1", 70000, token_);
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.error().category(), ErrorCategory::kValidation);
  EXPECT_FALSE(other.IsRunning());
}

TEST_F(ApiTest, StopClosesThePortAndIsIdempotent) {
  const int port = server_->port();
  client_.reset();
  server_->Stop();
  server_->Stop();
  EXPECT_FALSE(server_->IsRunning());
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(1));
  EXPECT_FALSE(client.Get("/health"));
}

TEST_F(ApiTest, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 20; ++i) {
    HttpServer quick;
    ASSERT_TRUE(quick.Start("127.0.0.1", 0, token_).ok());
    quick.Stop();
  }
}

TEST_F(ApiTest, ServerTokenIsTheOneInTheDataDirectoryWithMode0600) {
  EXPECT_EQ(*DefaultFileSystem().FileMode(TokenPath(data_dir_.path())), 0600);
  EXPECT_EQ(*ReadToken(DefaultFileSystem(), data_dir_.path()), token_);
}

TEST_F(ApiTest, TokenFileReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod(TokenPath(data_dir_.path()).c_str(), 0644), 0);
  Result<std::string> token = LoadOrCreateToken(DefaultFileSystem(), data_dir_.path());
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.error().category(), ErrorCategory::kPermission);
  EXPECT_NE(token.error().message().find("chmod 600"), std::string::npos);
}

TEST(LoopbackTest, RecognisesLoopbackAddressesOnly) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "localhost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "example.com", "", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

}  // namespace
}  // namespace rebound::api
