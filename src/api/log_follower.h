#pragma once

// LogFollower: what a service appends to its log file, across rotations, as `tail -F` reads
// it. It keeps the file open: after the shim renames NAME.log to NAME.log.1, the follower
// reads the rest of the old file through its descriptor, then opens the new NAME.log from
// its start, so no line is lost or repeated.
//
//   auto follower = LogFollower::Open("/var/lib/rebound/logs/api.log");
//   std::string current = follower->initial_content();   // the file as it was at Open
//   while (watching) { for (auto& line : *follower->ReadNewLines()) Send(line); Wait(); }
//
// A missing file is not an error: the follower opens it once it appears. Not thread-safe;
// one follower per reader.

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::api {

class LogFollower {
 public:
  virtual ~LogFollower() = default;

  // Opens `path` and reads it to its end (initial_content); follows from there.
  static std::unique_ptr<LogFollower> Open(const std::string& path);

  // The complete lines the file held when it was opened ("" if it did not exist); a last
  // line without its newline yet comes later from ReadNewLines.
  virtual const std::string& initial_content() const = 0;
  // The complete lines appended since the last call (a line still being written is held
  // back until its newline arrives). Errors: the file could not be read.
  virtual Result<std::vector<std::string>> ReadNewLines() = 0;
};

}  // namespace rebound::api
