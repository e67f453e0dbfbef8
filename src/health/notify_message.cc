#include "health/notify_message.h"

#include <charconv>

namespace rebound::health {
namespace {

void Apply(std::string_view name, std::string_view value, NotifyMessage& message) {
  if (name == "READY") {
    message.ready = value == "1";
  } else if (name == "STOPPING") {
    message.stopping = value == "1";
  } else if (name == "WATCHDOG") {
    message.watchdog = value == "1";
    message.watchdog_trigger = value == "trigger";
  } else if (name == "STATUS") {
    message.status = std::string(value);
  } else if (name == "WATCHDOG_USEC") {
    int64_t usec = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), usec);
    if (ec == std::errc() && end == value.data() + value.size() && usec >= 0) {
      message.watchdog_usec = usec;
    }
  }
}

}  // namespace

NotifyMessage ParseNotifyMessage(std::string_view datagram) {
  NotifyMessage message;
  while (!datagram.empty()) {
    const size_t newline = datagram.find('\n');
    std::string_view line = datagram.substr(0, newline);
    datagram = newline == std::string_view::npos ? std::string_view() : datagram.substr(newline + 1);
    const size_t equals = line.find('=');
    if (equals != std::string_view::npos && equals > 0) {
      Apply(line.substr(0, equals), line.substr(equals + 1), message);
    }
  }
  return message;
}

}  // namespace rebound::health
