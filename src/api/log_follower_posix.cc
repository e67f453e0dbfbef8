#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "api/log_follower.h"

namespace rebound::api {
namespace {

constexpr int kMaxRotatedFiles = 10000;

// Reads what `fd` has left into `into`.
Status ReadToEnd(int fd, const std::string& path, std::string& into) {
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError(errno, "read " + path);
    }
    if (n == 0) {
      return OkStatus();
    }
    into.append(buffer, static_cast<size_t>(n));
  }
}

std::optional<uint64_t> InodeOf(const std::string& path) {
  struct stat named {};
  if (::stat(path.c_str(), &named) != 0) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(named.st_ino);
}

// The lines of `content` from byte `start`, each with its cursor in file `inode`. A last line
// without a newline (the file was rotated mid-line) counts as a line.
void AppendLines(std::string_view content, size_t start, uint64_t inode,
                 std::vector<LogLine>& lines) {
  while (start < content.size()) {
    const size_t newline = content.find('\n', start);
    const size_t text_end = newline == std::string_view::npos ? content.size() : newline;
    const size_t next = newline == std::string_view::npos ? content.size() : newline + 1;
    lines.push_back({.text = std::string(content.substr(start, text_end - start)),
                     .end = {inode, static_cast<int64_t>(next)}});
    start = next;
  }
}

class PosixLogFollower final : public LogFollower {
 public:
  explicit PosixLogFollower(std::string path) : path_(std::move(path)) {}
  ~PosixLogFollower() override { Close(); }

  // Open(): the file as it is now is the initial content; follows from its end.
  void ReadInitial() {
    if (OpenCurrent()) {
      (void)ReadToEnd(fd_, path_, initial_);
    }
    // A line still being written is held back until its newline, as later ones are.
    const size_t complete = initial_.rfind('\n') + 1;  // 0 when there is no newline
    partial_ = initial_.substr(complete);
    initial_.resize(complete);
    partial_start_ = static_cast<int64_t>(complete);
    last_end_ = {inode_, partial_start_};
  }

  // OpenAfter(): positions the follower after `after`; false when no file holds it.
  bool Resume(const LogCursor& after) {
    resumed_ = OpenCurrent() ? ResumeInCurrent(after) || ResumeInRotated(after)
                             : after == LogCursor{} || ResumeInRotated(after);
    if (resumed_) {
      last_end_ = after;
      return true;
    }
    Close();
    pending_.clear();
    ReadInitial();
    return false;
  }

  const std::string& initial_content() const override { return initial_; }
  bool resumed() const override { return resumed_; }
  LogCursor cursor() const override { return last_end_; }

  Result<std::vector<LogLine>> ReadNewLines() override {
    std::vector<LogLine> lines = std::move(pending_);
    pending_.clear();
    if (fd_ < 0 && !OpenCurrent()) {
      return lines;  // not written yet
    }
    REBOUND_RETURN_IF_ERROR(ReadToEnd(fd_, path_, partial_));
    TakeCompleteLines(lines);
    if (WasRotated()) {  // the old file is drained: continue with the new one from its start
      Close();
      if (OpenCurrent()) {
        partial_start_ = -static_cast<int64_t>(partial_.size());  // a line split by rotation
        REBOUND_RETURN_IF_ERROR(ReadToEnd(fd_, path_, partial_));
        TakeCompleteLines(lines);
      }
    }
    if (!lines.empty()) {
      last_end_ = lines.back().end;
    }
    return lines;
  }

 private:
  bool OpenCurrent() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat held {};
    if (fd_ >= 0 && ::fstat(fd_, &held) == 0) {
      inode_ = static_cast<uint64_t>(held.st_ino);
    }
    partial_start_ = 0;
    return fd_ >= 0;
  }

  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  // The cursor is in the file `path_` names now ({0, 0}: "from the start", as a reader that
  // began before the file existed holds).
  bool ResumeInCurrent(const LogCursor& after) {
    struct stat held {};
    const bool from_start = after.inode == 0 && after.offset == 0;
    if (!from_start && (after.inode != inode_ || ::fstat(fd_, &held) != 0 ||
                        after.offset > static_cast<int64_t>(held.st_size))) {
      return false;
    }
    if (::lseek(fd_, after.offset, SEEK_SET) < 0) {
      return false;
    }
    partial_start_ = after.offset;
    return true;
  }

  // The cursor is in path.K: its rest and the newer rotated files become pending lines, and
  // the current file is read from its start.
  bool ResumeInRotated(const LogCursor& after) {
    std::vector<uint64_t> inodes;  // of path.1, path.2, ...
    for (int k = 1; k <= kMaxRotatedFiles; ++k) {
      std::optional<uint64_t> inode = InodeOf(path_ + "." + std::to_string(k));
      if (!inode || (fd_ >= 0 && *inode == inode_)) {
        break;  // the end, or the file we hold was rotated while we looked
      }
      inodes.push_back(*inode);
      if (*inode == after.inode) {
        return ReadRotated(after, static_cast<int>(inodes.size()));
      }
    }
    return false;
  }

  bool ReadRotated(const LogCursor& after, int oldest) {
    for (int k = oldest; k >= 1; --k) {
      const std::string path = path_ + "." + std::to_string(k);
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      struct stat held {};
      std::string content;
      const bool read = fd >= 0 && ::fstat(fd, &held) == 0 && ReadToEnd(fd, path, content).ok();
      if (fd >= 0) {
        ::close(fd);
      }
      const int64_t start = k == oldest ? after.offset : 0;
      if (!read || (k == oldest && held.st_ino != after.inode) ||
          start > static_cast<int64_t>(content.size())) {
        return false;
      }
      AppendLines(content, static_cast<size_t>(start), static_cast<uint64_t>(held.st_ino),
                  pending_);
    }
    return true;
  }

  // True when `path_` now names another file than the one we hold (renamed by rotation).
  bool WasRotated() const {
    struct stat held {};
    struct stat named {};
    if (::fstat(fd_, &held) != 0) {
      return false;
    }
    if (::stat(path_.c_str(), &named) != 0) {
      return false;  // between the rename and the new file: keep the old one for now
    }
    return held.st_ino != named.st_ino || held.st_dev != named.st_dev;
  }

  void TakeCompleteLines(std::vector<LogLine>& lines) {
    size_t start = 0;
    size_t newline = 0;
    while ((newline = partial_.find('\n', start)) != std::string::npos) {
      lines.push_back({.text = partial_.substr(start, newline - start),
                       .end = {inode_, partial_start_ + static_cast<int64_t>(newline) + 1}});
      start = newline + 1;
    }
    partial_.erase(0, start);
    partial_start_ += static_cast<int64_t>(start);
  }

  const std::string path_;
  int fd_ = -1;
  uint64_t inode_ = 0;  // of the file fd_ holds
  std::string initial_;
  std::string partial_;           // bytes after the last newline read
  int64_t partial_start_ = 0;     // where partial_ begins in the held file (< 0: in the previous)
  std::vector<LogLine> pending_;  // rotated lines a resume owes the next ReadNewLines
  LogCursor last_end_;
  bool resumed_ = false;
};

}  // namespace

std::string LogCursor::ToString() const {
  return std::to_string(inode) + ":" + std::to_string(offset);
}

std::optional<LogCursor> LogCursor::Parse(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  LogCursor cursor;
  const std::string_view inode = text.substr(0, colon);
  const std::string_view offset = text.substr(colon + 1);
  auto [inode_end, inode_error] =
      std::from_chars(inode.data(), inode.data() + inode.size(), cursor.inode);
  auto [offset_end, offset_error] =
      std::from_chars(offset.data(), offset.data() + offset.size(), cursor.offset);
  if (inode.empty() || offset.empty() || inode_error != std::errc() ||
      offset_error != std::errc() || inode_end != inode.data() + inode.size() ||
      offset_end != offset.data() + offset.size() || cursor.offset < 0) {
    return std::nullopt;
  }
  return cursor;
}

std::unique_ptr<LogFollower> LogFollower::Open(const std::string& path) {
  auto follower = std::make_unique<PosixLogFollower>(path);
  follower->ReadInitial();
  return follower;
}

std::unique_ptr<LogFollower> LogFollower::OpenAfter(const std::string& path,
                                                    const LogCursor& after) {
  auto follower = std::make_unique<PosixLogFollower>(path);
  (void)follower->Resume(after);
  return follower;
}

}  // namespace rebound::api
