#include "api/sse.h"

namespace rebound::api {

std::string FormatSseEvent(int64_t id, std::string_view event, std::string_view data) {
  return FormatSseEvent(std::string_view(std::to_string(id)), event, data);
}

std::string FormatSseEvent(std::string_view id, std::string_view event, std::string_view data) {
  return "id: " + std::string(id) + "\n" + FormatSseEventWithoutId(event, data);
}

std::string FormatSseEventWithoutId(std::string_view event, std::string_view data) {
  std::string frame;
  if (!event.empty()) {
    frame += "event: " + std::string(event) + "\n";
  }
  size_t start = 0;
  while (true) {
    const size_t end = data.find('\n', start);
    frame += "data: " + std::string(data.substr(start, end - start)) + "\n";
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return frame + "\n";
}

std::string FormatSseComment(std::string_view text) { return ": " + std::string(text) + "\n\n"; }

std::string FormatSseId(int64_t id) { return FormatSseId(std::string_view(std::to_string(id))); }

std::string FormatSseId(std::string_view id) { return "id: " + std::string(id) + "\n\n"; }

std::vector<SseEvent> SseParser::Feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::vector<SseEvent> done;
  size_t start = 0;
  size_t end = 0;
  while ((end = buffer_.find('\n', start)) != std::string::npos) {
    std::string_view line(buffer_.data() + start, end - start);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    Line(line, done);
    start = end + 1;
  }
  buffer_.erase(0, start);
  return done;
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>& done) {
  if (line.empty()) {  // a blank line dispatches the event
    // Only now does its id become the resume point: a stream broken between an event's id and
    // its blank line has not delivered that event, and resuming after it would skip it.
    last_event_id_ = pending_id_;
    if (has_data_) {
      if (current_.event.empty()) {
        current_.event = "message";
      }
      done.push_back(std::move(current_));
    }
    current_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (line.starts_with(':')) {
    return;  // comment
  }
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (value.starts_with(' ')) {
    value.remove_prefix(1);
  }
  if (field == "data") {
    current_.data += (has_data_ ? "\n" : "") + std::string(value);
    has_data_ = true;
  } else if (field == "id") {
    current_.id = value;
    pending_id_ = value;
  } else if (field == "event") {
    current_.event = value;
  }
}

}  // namespace rebound::api
