#pragma once

// Server-Sent Events framing (the WHATWG "text/event-stream" format), both ways: the server
// frames events, the CLI parses the stream it follows.
//
//   std::string frame = FormatSseEvent(42, "service.exited", R"({"code":1})");
//   // "id: 42\nevent: service.exited\ndata: {\"code\":1}\n\n"
//   SseParser parser;
//   for (const SseEvent& event : parser.Feed(bytes_from_the_socket)) Print(event.data);
//
// A reconnecting client sends the last id it saw as `Last-Event-ID`; the server resumes
// after it. Plain values; SseParser is not thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace rebound::api {

inline constexpr std::string_view kEventStreamType = "text/event-stream";

// A data value with newlines becomes one "data:" line per line, as the format requires.
std::string FormatSseEvent(int64_t id, std::string_view event, std::string_view data);
// The same with a textual id (e.g. a log cursor "INODE:OFFSET").
std::string FormatSseEvent(std::string_view id, std::string_view event, std::string_view data);
// An event without an id: the client's resume point stays where it was.
std::string FormatSseEventWithoutId(std::string_view event, std::string_view data);
// A comment line: keeps idle connections (and proxies) from timing out; clients ignore it.
std::string FormatSseComment(std::string_view text);
// An id without data: sets the client's resume point (what it sends as Last-Event-ID when it
// reconnects) without delivering an event.
std::string FormatSseId(int64_t id);
std::string FormatSseId(std::string_view id);

struct SseEvent {
  std::string id;
  std::string event;  // "message" when the stream named none
  std::string data;
};

class SseParser {
 public:
  // Returns the events completed by `bytes` (which may end mid-line or mid-event).
  std::vector<SseEvent> Feed(std::string_view bytes);
  // The id of the last event dispatched (by its blank line), with or without data ("" if
  // none yet): where to resume.
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void Line(std::string_view line, std::vector<SseEvent>& done);

  std::string buffer_;
  SseEvent current_;
  bool has_data_ = false;
  std::string pending_id_;     // set by an id line, until its event is dispatched
  std::string last_event_id_;
};

}  // namespace rebound::api
