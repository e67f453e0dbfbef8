#include "cli/event_commands.h"

#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
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

struct StreamOutcome {
  std::optional<Reply> reply;  // none: the daemon could not be reached, or the stream broke
  std::string error;           // the one line to print when it could not
  bool streamed = false;       // bytes came: it was connected (a killed daemon breaks the
                               // stream without ending it, which is no reply but no refusal)
};

// One connection to the stream; prints its events and advances `last_seq`.
StreamOutcome StreamOnce(const ClientOptions& options, const EventsArgs& args, int64_t& last_seq,
                         std::ostream& out) {
  std::map<std::string, std::string> headers;
  if (last_seq >= 0) {
    headers["Last-Event-ID"] = std::to_string(last_seq);  // resume exactly after it
  }
  api::SseParser parser;
  bool streamed = false;
  Result<Reply> reply =
      StreamRequest(options, "/v1/events/stream" + EventsQuery(args, /*stream=*/true), headers,
                    [&](std::string_view bytes) {
                      streamed = true;
                      for (const api::SseEvent& event : parser.Feed(bytes)) {
                        nlohmann::json json = nlohmann::json::parse(event.data, nullptr, false);
                        if (json.is_object()) {
                          PrintEvent(options, json, out);
                          last_seq = std::max(last_seq, json.value("seq", int64_t{-1}));
                        }
                      }
                      // The stream's own resume point (sent first, before any event).
                      int64_t stream_seq = -1;
                      const std::string& id = parser.last_event_id();
                      (void)std::from_chars(id.data(), id.data() + id.size(), stream_seq);
                      last_seq = std::max(last_seq, stream_seq);
                      return static_cast<bool>(out);
                    });
  if (!reply.ok()) {
    return {std::nullopt, reply.error().message(), streamed};
  }
  return {*reply, "", streamed};
}

// What a reconnecting follower needs to know about its stream.
struct FollowedStream {
  std::string name;  // "event", "log": for the lines on stderr
  std::chrono::seconds reconnect_for;
  std::function<StreamOutcome()> stream_once;  // one connection, from the resume point
  std::function<std::string()> resume_point;   // "#42": where the next connection resumes
  std::function<void(const Reply&)> refused;   // prints why a non-200 answer refused us
};

// Follows `stream`. A daemon that cannot be reached at first is one line and exit 2. Once
// connected, a stream that ends or breaks (a daemon restart) is reconnected every second for
// reconnect_for, resuming after the last event printed, so nothing is missed or printed twice.
int FollowReconnecting(const FollowedStream& stream, std::ostream& out, std::ostream& err) {
  bool was_connected = false;
  std::chrono::steady_clock::time_point give_up_at;
  while (true) {
    StreamOutcome outcome = stream.stream_once();
    if (outcome.reply && outcome.reply->status != 200) {
      stream.refused(*outcome.reply);
      return kExitRefused;
    }
    if (!out) {
      return kExitOk;  // whoever read our output has gone (e.g. `| head`)
    }
    const bool was_streaming = outcome.reply || outcome.streamed;
    if (!was_streaming && !was_connected) {
      err << outcome.error << "\n";
      return kExitNoAnswer;
    }
    const auto now = std::chrono::steady_clock::now();
    if (was_streaming) {  // a new outage starts now
      was_connected = true;
      give_up_at = now + stream.reconnect_for;
      if (stream.reconnect_for.count() > 0) {
        err << "rebound: the " << stream.name << " stream ended; reconnecting for up to "
            << stream.reconnect_for.count() << "s, resuming after " << stream.resume_point()
            << "\n";
      }
    }
    if (now >= give_up_at) {
      err << (was_streaming
                  ? "rebound: the daemon ended the " + stream.name + " stream (shutting down?)"
                  : outcome.error)
          << "\n";
      return kExitNoAnswer;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// Follows the event stream after `last_seq` (-1: from the next event).
int FollowEvents(const ClientOptions& options, const EventsArgs& args, int64_t last_seq,
                 std::ostream& out, std::ostream& err) {
  EventsArgs stream_args = args;
  stream_args.after.reset();  // the resume point travels as Last-Event-ID
  return FollowReconnecting(
      {.name = "event",
       .reconnect_for = args.reconnect_for,
       .stream_once = [&] { return StreamOnce(options, stream_args, last_seq, out); },
       .resume_point = [&] { return "#" + std::to_string(last_seq); },
       .refused = [&](const Reply& reply) { err << Refusal(options, "events", reply) << "\n"; }},
      out, err);
}

// One connection to a service's log stream: prints its lines (each as a JSON string with
// --json) and keeps the id of the last one, the cursor to resume after ("": the tail).
StreamOutcome StreamLogOnce(const ClientOptions& options, const LogsArgs& args,
                            std::string& last_id, std::ostream& out, std::ostream& err) {
  std::map<std::string, std::string> headers;
  if (!last_id.empty()) {
    headers["Last-Event-ID"] = last_id;
  }
  api::SseParser parser;
  bool streamed = false;
  Result<Reply> reply = StreamRequest(
      options,
      "/v1/services/" + EncodeComponent(args.service) +
          "/logs/stream?lines=" + std::to_string(args.lines),
      headers, [&](std::string_view bytes) {
        streamed = true;
        for (const api::SseEvent& event : parser.Feed(bytes)) {
          if (event.event == "line") {
            out << (options.json ? nlohmann::json(event.data).dump() : event.data) << "\n";
          } else if (event.event == "gap") {
            err << "rebound: " << event.data << "\n";
          }
        }
        out.flush();
        if (!parser.last_event_id().empty()) {
          last_id = parser.last_event_id();
        }
        return static_cast<bool>(out);
      });
  if (!reply.ok()) {
    return {std::nullopt, reply.error().message(), streamed};
  }
  return {*reply, "", streamed};
}

// `rebound logs -f`: the last lines, then each new one; after a lost connection, the lines
// written meanwhile, from where the stream left off.
int FollowLogs(const ClientOptions& options, const LogsArgs& args, std::ostream& out,
               std::ostream& err) {
  std::string last_id;
  return FollowReconnecting(
      {.name = "log",
       .reconnect_for = args.reconnect_for,
       .stream_once = [&] { return StreamLogOnce(options, args, last_id, out, err); },
       .resume_point = [] { return std::string("the last line printed"); },
       .refused =
           [&](const Reply& reply) {
             err << (reply.status == 404 ? "rebound: no service named \"" + args.service + "\""
                                         : Refusal(options, "logs " + args.service, reply))
                 << "\n";
           }},
      out, err);
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
  if (args.follow) {
    return FollowLogs(options, args, out, err);
  }
  Result<Reply> reply =
      SendRequest(options, {.path = "/v1/services/" + EncodeComponent(args.service) +
                                    "/logs?lines=" + std::to_string(args.lines)});
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
  if (options.json) {
    out << reply->body << "\n";
    return kExitOk;
  }
  if (reply->json.is_object() && reply->json["lines"].is_array()) {
    for (const auto& line : reply->json["lines"]) {
      out << (line.is_string() ? line.get<std::string>() : line.dump()) << "\n";
    }
  }
  return kExitOk;
}

}  // namespace rebound::cli
