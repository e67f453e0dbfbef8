// libFuzzer target for the API's own parsers: the event query (as the server receives it,
// name/value pairs), time bounds, route matching, If-Match, and Server-Sent Events framing
// both ways.
// Besides "no crash, no sanitizer report", it checks properties: SSE framing round-trips,
// route matching captures exactly the segment it matched.
//
//   make fuzz                                   # clang, ASan + UBSan, 30 s per run
//   build-fuzz/fuzz/api_parsers_fuzz -max_total_time=60 fuzz/corpus

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "api/event_query.h"
#include "api/http_message.h"
#include "api/route_table.h"
#include "api/sse.h"

namespace {

using rebound::api::RouteTable;

void Check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

// "a=1&b=2" -> {{"a","1"},{"b","2"}}: what httplib hands the server after decoding.
std::multimap<std::string, std::string> SplitQuery(std::string_view text) {
  std::multimap<std::string, std::string> query;
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const size_t eq = pair.find('=');
    query.emplace(std::string(pair.substr(0, eq)),
                  eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    text = amp == std::string_view::npos ? "" : text.substr(amp + 1);
  }
  return query;
}

void FuzzEventQuery(std::string_view text) {
  const auto now = rebound::FromUnixMillis(1'800'000'000'000);
  auto filter = rebound::api::ParseEventQuery(SplitQuery(text), now);
  if (filter.ok()) {
    Check(filter->limit >= 1 && filter->limit <= rebound::api::kMaxEventLimit);
    Check(filter->after_seq >= 0);
  } else {
    Check(!filter.error().message().empty());
  }
  (void)rebound::api::ParseTimeBound(std::string(text), now);
}

const RouteTable& Routes() {
  static const RouteTable* routes = [] {
    auto* table = new RouteTable;
    auto handler = [](const rebound::api::HttpRequest&) { return rebound::api::HttpResponse{}; };
    for (const char* pattern :
         {"/health", "/metrics", "/v1/services", "/v1/services/:name", "/v1/services/:name/logs",
          "/v1/events", "/v1/events/stream", "/v1/state", "/v1/state/:module", "/v1/daemon"}) {
      table->Add("GET", pattern, handler, false);
    }
    table->Add("PUT", "/v1/state/:module", handler, true);
    table->Add("POST", "/v1/services/:name/start", handler, true);
    table->Add("POST", "/v1/daemon/reload", handler, true);
    return table;
  }();
  return *routes;
}

void FuzzRoutes(std::string_view text) {
  const size_t space = text.find(' ');
  const std::string method(text.substr(0, space));
  const std::string path(space == std::string_view::npos ? "" : text.substr(space + 1));
  rebound::api::RouteMatch match = Routes().Find(method, path);
  for (const auto& [name, value] : match.path_params) {
    Check(!value.empty() && value.find('/') == std::string::npos);
    Check(path.find(value) != std::string::npos);
  }
  Check(match.handler == nullptr || match.allowed_methods.empty());
}

void FuzzSse(std::string_view text) {
  // Any bytes, fed in two pieces: never crashes, never loses the parser's state.
  rebound::api::SseParser parser;
  const size_t cut = text.empty() ? 0 : static_cast<unsigned char>(text[0]) % text.size();
  (void)parser.Feed(text.substr(0, cut));
  (void)parser.Feed(text.substr(cut));
  // Round trip: data without CR (which the format reserves for line ends) comes back intact.
  if (text.find('\r') == std::string_view::npos) {
    rebound::api::SseParser reader;
    auto events = reader.Feed(rebound::api::FormatSseEvent(42, "a.b", text));
    Check(events.size() == 1);
    Check(events[0].data == text);
    Check(events[0].id == "42");
    Check(events[0].event == "a.b");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzEventQuery(text);
      break;
    case 1:
      FuzzRoutes(text);
      break;
    case 2: {
      auto version = rebound::api::ParseIfMatch(std::string(text));
      Check(!version.ok() || *version >= 1);
      break;
    }
    default:
      FuzzSse(text);
      break;
  }
  return 0;
}
