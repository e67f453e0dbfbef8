#include "cli/event_commands.h"

#include <chrono>
#include <ctime>
#include <thread>

#include "api/sse.h"
#include "cli/http_client.h"

namespace rebound::cli {
namespace {

constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kDim = "\033[2m";
constexpr std::string_view kReset = "\033[0m";

std::string EventsQuery(const EventsArgs& args, bool stream) {
  std::string query;
  auto add = [&query](const char* name, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string(name) + "=" + EncodeComponent(value);
  };
  if (args.category) add("category", *args.category);
  if (args.kind) add("kind", *args.kind);
  if (args.subject) add("subject", *args.subject);
  if (args.after) add("after", std::to_string(*args.after));
  if (!stream) {
    if (args.since) add("since", *args.since);
    if (args.until) add("until", *args.until);
    if (args.limit) add("limit", std::to_string(*args.limit));
  }
  return query;
}

void PrintEvent(const ClientOptions& options, const nlohmann::json& event, std::ostream& out) {
  if (options.json) {
    out << event.dump() << "\n";
  } else {
    out << FormatEventLine(event, options.color) << "\n";
  }
  out.flush();
}

// Prints the history first (so `--since 10m --follow` shows the last ten minutes), then
// follows the stream from the last event printed.
int FollowEvents(const ClientOptions& options, const EventsArgs& args, int64_t after,
                 std::ostream& out, std::ostream& err) {
  EventsArgs stream_args = args;
  stream_args.after = after >= 0 ? std::optional<int64_t>(after) : std::nullopt;
  api::SseParser parser;
  Result<Reply> reply =
      StreamRequest(options, "/v1/events/stream" + EventsQuery(stream_args, /*stream=*/true), {},
                    [&](std::string_view bytes) {
                      for (const api::SseEvent& event : parser.Feed(bytes)) {
                        nlohmann::json json = nlohmann::json::parse(event.data, nullptr, false);
                        if (json.is_object()) {
                          PrintEvent(options, json, out);
                        }
                      }
                      return static_cast<bool>(out);
                    });
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    return kExitNoAnswer;
  }
  if (reply->status != 200) {
    err << Refusal(options, "events", *reply) << "\n";
    return kExitRefused;
  }
  err << "rebound: the daemon ended the event stream (shutting down?)\n";
  return kExitNoAnswer;
}

std::vector<std::string> JsonLines(const nlohmann::json& reply) {
  std::vector<std::string> lines;
  if (reply.is_object() && reply.contains("lines") && reply["lines"].is_array()) {
    for (const auto& line : reply["lines"]) {
      lines.push_back(line.is_string() ? line.get<std::string>() : line.dump());
    }
  }
  return lines;
}

// How many leading lines of `now` were already shown: the longest suffix of `shown` that is
// a prefix of `now` (both windows end at the end of the log when they were read).
size_t Overlap(const std::vector<std::string>& shown, const std::vector<std::string>& now) {
  for (size_t length = std::min(shown.size(), now.size()); length > 0; --length) {
    if (std::equal(shown.end() - static_cast<std::ptrdiff_t>(length), shown.end(), now.begin())) {
      return length;
    }
  }
  return 0;
}

Result<Reply> FetchLogs(const ClientOptions& options, const std::string& service, int lines) {
  return SendRequest(options, {.path = "/v1/services/" + EncodeComponent(service) +
                                       "/logs?lines=" + std::to_string(lines)});
}

}  // namespace

std::string FormatUnixMillis(int64_t millis) {
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  char with_millis[48];
  std::snprintf(with_millis, sizeof(with_millis), "%s.%03dZ", buffer,
                static_cast<int>(millis % 1000));
  return with_millis;
}

std::string FormatEventLine(const nlohmann::json& event, bool color) {
  auto text = [&event](const char* key) {
    return event.contains(key) && event[key].is_string() ? event[key].get<std::string>()
                                                         : std::string("-");
  };
  const int64_t millis = event.value("time_ms", int64_t{0});
  const std::string kind = text("kind");
  const nlohmann::json data = event.value("data", nlohmann::json::object());
  std::string detail = data.is_object() && data.contains("message") && data["message"].is_string()
                           ? data["message"].get<std::string>()
                           : data.dump();
  const bool warning = kind == "exited" || kind == "fatal" || kind == "launch_failed" ||
                       kind == "stop_timeout" || kind == "adopt_failed";
  std::string name = text("category") + "." + kind;
  if (color && warning) {
    name = std::string(kRed) + name + std::string(kReset);
  }
  std::string time = FormatUnixMillis(millis);
  if (color) {
    time = std::string(kDim) + time + std::string(kReset);
  }
  return time + "  #" + std::to_string(event.value("seq", int64_t{0})) + "  " + name + "  " +
         (text("subject").empty() ? "-" : text("subject")) + "  " + detail;
}

int RunEvents(const ClientOptions& options, const EventsArgs& args, std::ostream& out,
              std::ostream& err) {
  int64_t last_seq = args.after.value_or(0);
  const bool history = !args.follow || args.since || args.until || args.after || args.limit;
  if (history) {
    Result<Reply> reply = SendRequest(options, {.path = "/v1/events" + EventsQuery(args, false)});
    if (!reply.ok()) {
      err << reply.error().message() << "\n";
      return kExitNoAnswer;
    }
    if (reply->status != 200 || !reply->json.is_object() || !reply->json["events"].is_array()) {
      err << Refusal(options, "events", *reply) << "\n";
      return reply->status >= 400 ? kExitRefused : kExitNoAnswer;
    }
    for (const auto& event : reply->json["events"]) {
      PrintEvent(options, event, out);
      last_seq = std::max(last_seq, event.value("seq", int64_t{0}));
    }
    if (!args.follow) {
      return kExitOk;
    }
    last_seq = std::max(last_seq, reply->json.value("last_seq", int64_t{0}));
  }
  return FollowEvents(options, args, history ? last_seq : -1, out, err);
}

int RunLogs(const ClientOptions& options, const LogsArgs& args, std::ostream& out,
            std::ostream& err) {
  std::vector<std::string> shown;
  int lines = args.lines;
  while (true) {
    Result<Reply> reply = FetchLogs(options, args.service, lines);
    if (!reply.ok()) {
      err << reply.error().message() << "\n";
      return kExitNoAnswer;
    }
    if (reply->status != 200) {
      err << (reply->status == 404 ? "rebound: no service named \"" + args.service + "\""
                                   : Refusal(options, "logs " + args.service, *reply))
          << "\n";
      return kExitRefused;
    }
    std::vector<std::string> now = JsonLines(reply->json);
    for (size_t i = Overlap(shown, now); i < now.size(); ++i) {
      out << now[i] << "\n";
    }
    out.flush();
    if (!args.follow || !out) {
      return kExitOk;
    }
    shown = std::move(now);
    lines = 1000;  // the window new lines are found in; a second's output rarely exceeds it
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace rebound::cli
