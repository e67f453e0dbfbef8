#pragma once

// A service's output (stdout and stderr, as its shim captured them) over HTTP.
//
//   RegisterLogRoutes(server, controller, DefaultFileSystem(), data_dir + "/logs");
//
//   GET /v1/services/:name/logs?lines=N   200 {"service", "lines": ["...", ...]}: the last N
//       lines (default 100, at most 10000) across NAME.log and its rotated files
//       NAME.log.1 (newer) ... NAME.log.K (older). 404 for an unknown service; a known
//       service that has written nothing gives no lines.
//   GET /v1/services/:name/logs/stream?lines=N   200 text/event-stream: the last N lines,
//       then each line as it is written ("event: line", "data: LINE"), across rotations
//       (LogFollower), until the client goes or the server stops. A comment every
//       heartbeat_interval keeps an idle connection open.
//
// Controller and file system must outlive the server's Stop().

#include <chrono>
#include <string>
#include <vector>

#include "api/http_server.h"
#include "base/clock.h"
#include "base/file_system.h"
#include "engine/service_controller.h"

namespace rebound::api {

inline constexpr int kDefaultLogLines = 100;
inline constexpr int kMaxLogLines = 10000;

struct LogStreamOptions {
  Duration poll_interval = std::chrono::milliseconds(250);
  Duration heartbeat_interval = std::chrono::seconds(15);
};

void RegisterLogRoutes(HttpServer& server, engine::ServiceController& controller, FileSystem& fs,
                       std::string log_dir, LogStreamOptions options = {});

// The last `count` lines of the concatenation of `contents` (oldest file first). A final
// line without a newline counts; the newline itself is not part of a line.
std::vector<std::string> TailLines(const std::vector<std::string>& contents, int count);

// NAME.log.K ... NAME.log.1, NAME.log that exist in `names` (a directory listing), oldest
// first. Rotation numbers sort numerically: NAME.log.10 is older than NAME.log.9.
std::vector<std::string> LogFilesOldestFirst(const std::vector<std::string>& names,
                                             const std::string& service);

}  // namespace rebound::api
