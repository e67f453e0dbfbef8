#pragma once

// `rebound events` and `rebound logs`: what happened, and what a service printed.
//
//   EventsArgs args{.category = "service", .since = "10m", .follow = true};
//   int code = RunEvents(options, args, std::cout, std::cerr);   // streams until interrupted
//   int code = RunLogs(options, {.service = "api", .lines = 50}, std::cout, std::cerr);
//
// Exit codes as in http_client.h. Without --json, each event is one line:
//   2026-11-25T22:50:01.123Z  #42  service.exited  api  exited with code 1
// With --json, each event is its JSON object on one line (JSON Lines), also when following.
// Logs print the lines as they were written (--json: the daemon's JSON; with --follow, each
// line as a JSON string); --follow streams new ones as they are written (across log
// rotations) until the daemon stops.
// Following events or logs survives a daemon restart or a dropped connection: the stream is
// resumed (Last-Event-ID) after the last event or line printed, for up to reconnect_for, with
// one line on stderr while it waits.

#include <chrono>
#include <optional>
#include <ostream>
#include <string>

#include "cli/client_options.h"
#include "nlohmann/json.hpp"

namespace rebound::cli {

struct EventsArgs {
  std::optional<std::string> category = {};
  std::optional<std::string> kind = {};
  std::optional<std::string> subject = {};
  std::optional<std::string> since = {};
  std::optional<std::string> until = {};
  std::optional<int64_t> after = {};
  std::optional<int> limit = {};
  bool follow = false;
  // How long a follower keeps reconnecting after the stream was lost (0: gives up at once).
  std::chrono::seconds reconnect_for{30};
};

int RunEvents(const ClientOptions& options, const EventsArgs& args, std::ostream& out,
              std::ostream& err);

struct LogsArgs {
  std::string service;
  int lines = 100;
  bool follow = false;
  // As EventsArgs::reconnect_for.
  std::chrono::seconds reconnect_for{30};
};

int RunLogs(const ClientOptions& options, const LogsArgs& args, std::ostream& out,
            std::ostream& err);

// One event as a readable line (no newline). Colour marks warnings (exits, fatal) red.
std::string FormatEventLine(const nlohmann::json& event, bool color);

// "2026-11-25T22:50:01.123Z" for Unix milliseconds.
std::string FormatUnixMillis(int64_t millis);

}  // namespace rebound::cli
