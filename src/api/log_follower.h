#pragma once

// LogFollower: what a service appends to its log file, across rotations, as `tail -F` reads
// it. It keeps the file open: after the shim renames NAME.log to NAME.log.1, the follower
// reads the rest of the old file through its descriptor, then opens the new NAME.log from
// its start, so no line is lost or repeated.
//
//   auto follower = LogFollower::Open("/var/lib/rebound/logs/api.log");
//   std::string current = follower->initial_content();   // the file as it was at Open
//   while (watching) {
//     for (const LogLine& line : *follower->ReadNewLines()) Send(line.text, line.end);
//     Wait();
//   }
//   // A reader that lost its connection resumes after the last line it got:
//   auto again = LogFollower::OpenAfter(path, last_line.end);
//   if (!again->resumed()) { ... the cursor's file was rotated away: start afresh ... }
//
// A missing file is not an error: the follower opens it once it appears. Not thread-safe;
// one follower per reader.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace rebound::api {

// Where a reader stands in a service's log: the file, by inode (a rotation's rename keeps
// it), and the byte offset just after the last line read. As text "INODE:OFFSET": the SSE
// id of a streamed line, which a reconnecting client sends back as Last-Event-ID.
struct LogCursor {
  uint64_t inode = 0;
  int64_t offset = 0;

  std::string ToString() const;
  // nullopt unless `text` is two decimal numbers joined by ':'.
  static std::optional<LogCursor> Parse(std::string_view text);
  bool operator==(const LogCursor&) const = default;
};

struct LogLine {
  std::string text = {};  // without its newline
  LogCursor end = {};     // just after this line's newline

  bool operator==(const LogLine&) const = default;
};

class LogFollower {
 public:
  virtual ~LogFollower() = default;

  // Opens `path` and reads it to its end (initial_content); follows from there.
  static std::unique_ptr<LogFollower> Open(const std::string& path);
  // Follows `path` from just after `after`, a cursor an earlier follower of the same path
  // gave: in `path` itself or in a file rotated away from it (path.1, path.2, ...). The first
  // ReadNewLines then returns what was written after the cursor, oldest file first. When no
  // file holds the cursor any more (rotated past the retention, or logs deleted), resumed()
  // is false and the follower is as Open(path) made it.
  static std::unique_ptr<LogFollower> OpenAfter(const std::string& path, const LogCursor& after);

  // The complete lines the file held when it was opened ("" if it did not exist, and after
  // a resumed OpenAfter); a last line without its newline yet comes later from ReadNewLines.
  virtual const std::string& initial_content() const = 0;
  // Whether OpenAfter found its cursor (false after Open).
  virtual bool resumed() const = 0;
  // Just after the last complete line read so far (initial content included); {0, 0} while
  // the file does not exist.
  virtual LogCursor cursor() const = 0;
  // The complete lines appended since the last call (a line still being written is held
  // back until its newline arrives). Errors: the file could not be read.
  virtual Result<std::vector<LogLine>> ReadNewLines() = 0;
};

}  // namespace rebound::api
