#pragma once

// RotatingLog: a service's captured output, in a file rotated by size.
//
//   RotatingLog log(fs, {.path = "/var/log/rebound/api.log", .max_bytes = 10 << 20, .keep = 5});
//   log.Open();                          // an existing api.log becomes api.log.1
//   log.Write(bytes_from_the_pipe);      // rotates before api.log would exceed max_bytes
//   log.WriteNote("received SIGTERM");   // "[rebound-shim] received SIGTERM\n"
//
// Rotation renames FILE.(keep-1) -> FILE.keep, ..., FILE -> FILE.1 and starts an empty FILE,
// so FILE and every FILE.N stay within max_bytes and at most `keep` rotated files exist
// (keep = 0: FILE is simply restarted). Open() also removes FILE.N for N > keep left by a
// run with a larger keep (when FILE.(keep+1) exists: such a run leaves them contiguous).
//
// The writer never blocks its caller on a failing disk: output that cannot be written
// (disk full, I/O error, failed rotation) is dropped and counted in stats(), and the next
// Write tries again. A Write that returns an error has already accounted for its bytes.
// Data is not fsynced: it is a log, not a record.
//
// Not thread-safe: one thread (the shim's loop) owns it. The FileSystem must outlive it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/file_system.h"

namespace rebound::supervise {

// Counters of one RotatingLog, for the shim's own log lines and tests.
struct RotatingLogStats {
  uint64_t bytes_written = 0;
  uint64_t bytes_dropped = 0;
  uint64_t rotations = 0;
  uint64_t write_errors = 0;  // failed appends, opens and rotations
};

struct RotatingLogOptions {
  std::string path;
  uint64_t max_bytes = 10 * 1024 * 1024;  // REQUIRES: >= 1
  int keep = 5;                           // REQUIRES: >= 0
};

class RotatingLog {
 public:
  static constexpr std::string_view kNotePrefix = "[rebound-shim] ";

  RotatingLog(FileSystem& fs, RotatingLogOptions options);
  RotatingLog(const RotatingLog&) = delete;
  RotatingLog& operator=(const RotatingLog&) = delete;

  // Rotates an existing FILE out of the way (output of a previous run is kept as FILE.1),
  // removes rotated files beyond `keep` and creates an empty FILE.
  Status Open();
  // Appends `data`, rotating first whenever FILE would exceed max_bytes. A chunk larger than
  // max_bytes is split across files.
  Status Write(std::string_view data);
  // Writes "[rebound-shim] <text>\n", starting a new line first if the service's output
  // stopped mid-line, so notes are always whole lines.
  Status WriteNote(std::string_view text);
  Status Close();

  const RotatingLogStats& stats() const { return stats_; }
  // Bytes in the current FILE (counting bytes of failed appends, which may be partly there).
  uint64_t current_bytes() const { return current_bytes_; }
  std::string RotatedPath(int index) const;

 private:
  Status OpenCurrent();
  Status Rotate();
  Status ShiftRotatedFiles();
  Status RemoveExcessRotatedFiles();
  Status AppendPiece(std::string_view piece);
  Status Drop(std::string_view data, Error error);

  FileSystem& fs_;
  RotatingLogOptions options_;
  std::unique_ptr<WritableFile> file_;
  uint64_t current_bytes_ = 0;
  bool at_line_start_ = true;
  RotatingLogStats stats_;
};

}  // namespace rebound::supervise
