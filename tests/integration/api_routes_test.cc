// The routes added on top of the service routes (events, SSE, module state, logs, daemon,
// metrics), end to end over real HTTP on 127.0.0.1: a real store in a temp dir, fakes for the
// engine.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "api/daemon_routes.h"
#include "api/event_routes.h"
#include "api/http_server.h"
#include "api/log_routes.h"
#include "api/metrics_routes.h"
#include "api/service_routes.h"
#include "api/sse.h"
#include "api/state_routes.h"
#include "store/store.h"
#include "testing/fake_daemon_controller.h"
#include "testing/fake_service_controller.h"
#include "testing/temp_dir.h"

namespace rebound::api {
namespace {

using namespace std::chrono_literals;
const std::string kToken(64, 't');

class ApiRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::Open(dir_.Path("data"));
    ASSERT_TRUE(store.ok()) << store.error().ToString();
    store_ = std::move(*store);
    controller_.AddService({.name = "api", .state = "running", .pid = 4242, .restarts = 2});
    controller_.AddService({.name = "cache", .state = "stopped", .required = false});
    daemon_.SetInfo({.version = "0.1.0",
                     .pid = 99,
                     .started_at_ms = 1700000000000,
                     .uptime_seconds = 5,
                     .data_dir = "/var/lib/rebound",
                     .config_path = "/etc/rebound.toml",
                     .config_digest = "0123abcd",
                     .listen = "127.0.0.1:7300",
                     .services = 2});
    server_ = std::make_unique<HttpServer>(HttpServerOptions{.metrics = &metrics_});
    RegisterServiceRoutes(*server_, controller_);
    RegisterLogRoutes(*server_, controller_, DefaultFileSystem(), dir_.path(),
                      {.poll_interval = 20ms, .heartbeat_interval = 1s});
    RegisterEventRoutes(*server_, store_->journal(), DefaultClock(),
                        {.poll_interval = 50ms, .heartbeat_interval = 100ms});
    RegisterStateRoutes(*server_, store_->states());
    RegisterDaemonRoutes(*server_, daemon_);
    RegisterServiceMetrics(metrics_, controller_);
    RegisterStoreMetrics(metrics_, store_->writer());
    RegisterMetricsRoute(*server_, metrics_);
    ASSERT_TRUE(server_->Start("127.0.0.1", 0, kToken).ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(5s);
  }
  void TearDown() override {
    server_->Stop();
    store_->Close();
  }

  int64_t Append(const std::string& kind, const std::string& subject) {
    auto seq = store_->journal()
                   .Append({.category = "service",
                            .kind = kind,
                            .subject = subject,
                            .data = {{"message", kind + " " + subject}}})
                   .get();
    EXPECT_TRUE(seq.ok());
    return seq.value_or(0);
  }
  static nlohmann::json Json(const httplib::Result& result) {
    return nlohmann::json::parse(result->body, nullptr, false);
  }
  static void ExpectError(const httplib::Result& result, int status, const std::string& code,
                          const std::string& in_message = "") {
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_EQ(Json(result)["error"]["code"], code) << result->body;
    EXPECT_NE(Json(result)["error"]["message"].get<std::string>().find(in_message),
              std::string::npos)
        << result->body;
  }
  httplib::Headers Auth(httplib::Headers headers = {}) {
    headers.emplace("Authorization", "Bearer " + kToken);
    return headers;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  MetricsRegistry metrics_;
  testing::FakeServiceController controller_;
  testing::FakeDaemonController daemon_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

// ---- events ----

TEST_F(ApiRoutesTest, EventsQueryFiltersBySubjectKindAndAfter) {
  const int64_t first = Append("started", "api");
  Append("exited", "api");
  Append("started", "db");
  auto all = client_->Get("/v1/events");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->status, 200);
  EXPECT_EQ(Json(all)["events"].size(), 3u);
  EXPECT_EQ(Json(all)["last_seq"], first + 2);
  auto api = Json(client_->Get("/v1/events?subject=api&kind=exited"))["events"];
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api[0]["seq"], first + 1);
  EXPECT_EQ(api[0]["data"]["message"], "exited api");
  auto after = Json(client_->Get("/v1/events?after=" + std::to_string(first) + "&limit=1"));
  ASSERT_EQ(after["events"].size(), 1u);
  EXPECT_EQ(after["events"][0]["seq"], first + 1);
}

TEST_F(ApiRoutesTest, EventsQueryErrorsNameTheParameter) {
  ExpectError(client_->Get("/v1/events?limit=0"), 422, "validation", "\"limit\"");
  ExpectError(client_->Get("/v1/events?since=yesterday"), 422, "validation", "\"since\"");
  ExpectError(client_->Get("/v1/events?sujbect=api"), 422, "validation", "\"sujbect\"");
}

// Reads SSE events from /v1/events/stream until `count` have arrived (or 5 s pass).
std::vector<SseEvent> ReadStream(int port, const httplib::Headers& headers, size_t count,
                                 const std::string& query = "") {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5s);
  SseParser parser;
  std::vector<SseEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  client.Get("/v1/events/stream" + query, headers, [&](const char* data, size_t length) {
    for (SseEvent& event : parser.Feed(std::string_view(data, length))) {
      events.push_back(std::move(event));
    }
    return events.size() < count && std::chrono::steady_clock::now() < deadline;
  });
  return events;
}

TEST_F(ApiRoutesTest, StreamDeliversEventsCommittedAfterItOpens) {
  Append("started", "before");  // not replayed: the stream starts with the next event
  std::atomic<bool> done = false;
  std::thread writer([&] {
    while (!done) {
      Append("exited", "api");
      std::this_thread::sleep_for(20ms);
    }
  });
  std::vector<SseEvent> events = ReadStream(server_->port(), {}, 2);
  done = true;
  writer.join();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "service.exited");
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["subject"], "api");
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["seq"], std::stoll(events[0].id));
  EXPECT_LT(std::stoll(events[0].id), std::stoll(events[1].id));
}

TEST_F(ApiRoutesTest, StreamResumesAfterLastEventIdAndFilters) {
  const int64_t first = Append("started", "api");
  Append("started", "db");
  Append("exited", "api");
  Append("exited", "api");
  // A client that saw `first` reconnects: it gets what it missed, in order, filtered.
  std::vector<SseEvent> events =
      ReadStream(server_->port(), {{"Last-Event-ID", std::to_string(first)}}, 2, "?subject=api");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, std::to_string(first + 2));
  EXPECT_EQ(events[1].id, std::to_string(first + 3));
}

TEST_F(ApiRoutesTest, StreamRefusesABadLastEventId) {
  ExpectError(client_->Get("/v1/events/stream", {{"Last-Event-ID", "abc"}}), 422, "validation",
              "Last-Event-ID");
}

TEST_F(ApiRoutesTest, StreamSendsKeepaliveCommentsAndEndsWhenTheServerStops) {
  httplib::Client client("127.0.0.1", server_->port());
  std::string received;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    server_->Stop();
  });
  const auto start = std::chrono::steady_clock::now();
  client.Get("/v1/events/stream", [&](const char* data, size_t length) {
    received.append(data, length);
    return true;
  });
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_NE(received.find(": keepalive"), std::string::npos) << received;
}

// ---- module state ----

TEST_F(ApiRoutesTest, StateRoundTripWithEtagsAndIfMatch) {
  ExpectError(client_->Get("/v1/state/llm"), 404, "not_found");
  auto created = client_->Put("/v1/state/llm", Auth(), R"({"model": "a"})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(created->get_header_value("ETag"), "\"1\"");
  auto read = client_->Get("/v1/state/llm");
  ASSERT_TRUE(read);
  EXPECT_EQ(read->get_header_value("ETag"), "\"1\"");
  EXPECT_EQ(Json(read)["document"], nlohmann::json({{"model", "a"}}));
  EXPECT_EQ(Json(read)["module"], "llm");
  auto updated = client_->Put("/v1/state/llm", Auth({{"If-Match", "\"1\""}}), R"({"model": "b"})",
                              "application/json");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->status, 200);
  EXPECT_EQ(Json(updated)["version"], 2);
  // A writer that still holds version 1 loses, and is told the current version.
  ExpectError(client_->Put("/v1/state/llm", Auth({{"If-Match", "\"1\""}}), R"({"model": "c"})",
                           "application/json"),
              409, "conflict", "version 2");
  EXPECT_EQ(Json(client_->Get("/v1/state/llm"))["document"]["model"], "b");
  auto list = Json(client_->Get("/v1/state"));
  ASSERT_EQ(list["modules"].size(), 1u);
}

TEST_F(ApiRoutesTest, StatePutErrors) {
  ExpectError(client_->Put("/v1/state/llm", R"({"a": 1})", "application/json"), 401,
              "unauthorized");
  ExpectError(client_->Put("/v1/state/llm", Auth(), "[1, 2]", "application/json"), 422,
              "validation", "body: expected the module's document as a JSON object");
  ExpectError(client_->Put("/v1/state/llm", Auth(), "{", "application/json"), 400, "malformed");
  ExpectError(client_->Put("/v1/state/llm", Auth(), "a=1", "text/plain"), 415,
              "unsupported_media_type");
  ExpectError(client_->Put("/v1/state/bad%20name", Auth(), "{}", "application/json"), 422,
              "validation");
  ExpectError(
      client_->Put("/v1/state/llm", Auth({{"If-Match", "yesterday"}}), "{}", "application/json"),
      400, "malformed", "If-Match");
  ExpectError(client_->Delete("/v1/state/llm", Auth()), 405, "method_not_allowed");
}

// ---- logs ----

TEST_F(ApiRoutesTest, LogsTailAcrossRotatedFiles) {
  std::ofstream(dir_.Path("api.log.1")) << "one\ntwo\n";
  std::ofstream(dir_.Path("api.log")) << "three\nfour\n";
  auto tail = client_->Get("/v1/services/api/logs?lines=3");
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 200);
  EXPECT_EQ(Json(tail),
            nlohmann::json::parse(R"({"service": "api", "lines": ["two", "three", "four"]})"));
  EXPECT_EQ(Json(client_->Get("/v1/services/cache/logs"))["lines"], nlohmann::json::array());
  ExpectError(client_->Get("/v1/services/nope/logs"), 404, "not_found");
  ExpectError(client_->Get("/v1/services/api/logs?lines=0"), 422, "validation", "\"lines\"");
}

TEST_F(ApiRoutesTest, LogStreamSendsTheTailThenNewLinesAcrossARotation) {
  std::ofstream(dir_.Path("api.log")) << "one\ntwo\nthree\n";
  std::thread writer([&] {
    std::this_thread::sleep_for(200ms);
    std::ofstream(dir_.Path("api.log"), std::ios::app) << "four\n";
    std::rename(dir_.Path("api.log").c_str(), dir_.Path("api.log.1").c_str());
    std::ofstream(dir_.Path("api.log")) << "five\n";
  });
  httplib::Client client("127.0.0.1", server_->port());
  client.set_read_timeout(5s);
  SseParser parser;
  std::vector<std::string> lines;
  auto result =
      client.Get("/v1/services/api/logs/stream?lines=2", [&](const char* data, size_t length) {
        for (const SseEvent& event : parser.Feed(std::string_view(data, length))) {
          EXPECT_EQ(event.event, "line");
          lines.push_back(event.data);
        }
        return lines.size() < 4;
      });
  writer.join();
  EXPECT_EQ(lines, (std::vector<std::string>{"two", "three", "four", "five"}));
  ExpectError(client_->Get("/v1/services/nope/logs/stream"), 404, "not_found");
  ExpectError(client_->Get("/v1/services/api/logs/stream?lines=x"), 422, "validation");
}

// Reads a log stream until `count` lines came; returns them with the last id the stream set.
std::pair<std::vector<std::string>, std::string> ReadLogStream(int port, const std::string& last_id,
                                                               size_t count,
                                                               std::vector<std::string>* gaps) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5s);
  httplib::Headers headers;
  if (!last_id.empty()) {
    headers.emplace("Last-Event-ID", last_id);
  }
  SseParser parser;
  std::vector<std::string> lines;
  client.Get("/v1/services/api/logs/stream?lines=1", headers, [&](const char* data, size_t length) {
    for (const SseEvent& event : parser.Feed(std::string_view(data, length))) {
      if (event.event == "line") {
        lines.push_back(event.data);
      } else if (event.event == "gap" && gaps != nullptr) {
        gaps->push_back(event.data);
      }
    }
    return lines.size() < count || parser.last_event_id().empty();
  });
  return {lines, parser.last_event_id()};
}

TEST_F(ApiRoutesTest, LogStreamResumesAfterTheLastEventIdAcrossARotation) {
  std::ofstream(dir_.Path("api.log")) << "one\ntwo\n";
  auto [first, last_id] = ReadLogStream(server_->port(), "", 1, nullptr);
  EXPECT_EQ(first, std::vector<std::string>{"two"});
  ASSERT_FALSE(last_id.empty());  // the id block after the tail
  std::ofstream(dir_.Path("api.log"), std::ios::app) << "three\n";
  std::rename(dir_.Path("api.log").c_str(), dir_.Path("api.log.1").c_str());
  std::ofstream(dir_.Path("api.log")) << "four\n";
  auto [rest, rest_id] = ReadLogStream(server_->port(), last_id, 2, nullptr);
  EXPECT_EQ(rest, (std::vector<std::string>{"three", "four"}));
  EXPECT_NE(rest_id, last_id);
}

TEST_F(ApiRoutesTest, LogStreamSaysSoWhenItsResumePointWasRotatedAway) {
  std::ofstream(dir_.Path("api.log")) << "one\ntwo\n";
  std::vector<std::string> gaps;
  auto [lines, id] = ReadLogStream(server_->port(), "1:0", 1, &gaps);  // inode 1: no log file
  EXPECT_EQ(lines, std::vector<std::string>{"two"});
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_NE(gaps[0].find("rotated past the resume point"), std::string::npos) << gaps[0];
  ExpectError(client_->Get("/v1/services/api/logs/stream", {{"Last-Event-ID", "7"}}), 422,
              "validation", "Last-Event-ID");
}

// ---- daemon ----

TEST_F(ApiRoutesTest, DaemonInfo) {
  auto info = client_->Get("/v1/daemon");
  ASSERT_TRUE(info);
  EXPECT_EQ(Json(info), nlohmann::json::parse(R"({"version": "0.1.0", "pid": 99,
    "started_at_ms": 1700000000000, "uptime_seconds": 5.0, "data_dir": "/var/lib/rebound",
    "config_path": "/etc/rebound.toml", "config_digest": "0123abcd", "listen": "127.0.0.1:7300",
    "services": 2})"));
}

TEST_F(ApiRoutesTest, ReloadNeedsTheTokenAndReportsTheOutcome) {
  ExpectError(client_->Post("/v1/daemon/reload"), 401, "unauthorized");
  EXPECT_EQ(daemon_.reload_calls(), 0);
  daemon_.SetReloadResult(engine::ReloadOutcome{
      .added = {"c"}, .removed = {"b"}, .changed = {"a"}, .unchanged = {}, .config_digest = "ff"});
  auto reload = client_->Post("/v1/daemon/reload", Auth(), "", "application/json");
  ASSERT_TRUE(reload);
  EXPECT_EQ(reload->status, 200);
  EXPECT_EQ(Json(reload), nlohmann::json::parse(R"({"added": ["c"], "removed": ["b"],
    "changed": ["a"], "unchanged": [], "config_digest": "ff"})"));
}

TEST_F(ApiRoutesTest, ABadConfigIsRefusedWithItsErrorAndShutdownIs503) {
  daemon_.SetReloadResult(ValidationError("rebound.toml:3: services.a.command: must not be empty"));
  ExpectError(client_->Post("/v1/daemon/reload", Auth(), "", "application/json"), 422, "validation",
              "rebound.toml:3: services.a.command");
  daemon_.SetReloadResult(ResourceError("the daemon is shutting down"));
  ExpectError(client_->Post("/v1/daemon/reload", Auth(), "", "application/json"), 503,
              "shutting_down");
}

// ---- metrics ----

TEST_F(ApiRoutesTest, MetricsAreTextWithRequestCountsServiceStateAndCommitLatency) {
  client_->Get("/health");
  client_->Get("/v1/services/nope");
  Append("started", "api");
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), kPrometheusTextType);
  const std::string& text = metrics->body;
  EXPECT_NE(
      text.find("rebound_http_requests_total{method=\"GET\",route=\"/health\",code=\"200\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"/v1/services/:name\",code=\"404\"} 1"), std::string::npos);
  EXPECT_NE(text.find("rebound_http_request_duration_seconds_bucket{method=\"GET\",route=\"/"
                      "health\",le=\"+Inf\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("rebound_service_up{service=\"api\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("rebound_service_up{service=\"cache\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("rebound_service_restarts_total{service=\"api\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("rebound_store_commit_duration_seconds_bucket{le=\"+Inf\"} "),
            std::string::npos);
  EXPECT_EQ(text.find("rebound_store_commit_duration_seconds_count 0\n"), std::string::npos);
}

TEST_F(ApiRoutesTest, PromtoolAcceptsTheMetrics) {
  client_->Get("/health");
  client_->Get("/v1/events?limit=0");
  const std::string path = dir_.Path("metrics.txt");
  std::ofstream(path) << client_->Get("/metrics")->body;
  const std::string command = std::string(PROMTOOL_PATH) + " check metrics < " + path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
    output += buffer;
  }
  EXPECT_EQ(::pclose(pipe), 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings:\n" << output;
}

}  // namespace
}  // namespace rebound::api
