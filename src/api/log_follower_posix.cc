#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "api/log_follower.h"

namespace rebound::api {
namespace {

class PosixLogFollower final : public LogFollower {
 public:
  explicit PosixLogFollower(std::string path) : path_(std::move(path)) {
    if (OpenCurrent()) {
      (void)ReadToEnd(initial_);
    }
    // A line still being written is held back until its newline, as later ones are.
    const size_t complete = initial_.rfind('\n') + 1;  // 0 when there is no newline
    partial_ = initial_.substr(complete);
    initial_.resize(complete);
  }
  ~PosixLogFollower() override { Close(); }

  const std::string& initial_content() const override { return initial_; }

  Result<std::vector<std::string>> ReadNewLines() override {
    if (fd_ < 0 && !OpenCurrent()) {
      return std::vector<std::string>{};  // not written yet
    }
    REBOUND_RETURN_IF_ERROR(ReadToEnd(partial_));
    if (WasRotated()) {  // the old file is drained: continue with the new one from its start
      Close();
      if (OpenCurrent()) {
        REBOUND_RETURN_IF_ERROR(ReadToEnd(partial_));
      }
    }
    return TakeCompleteLines();
  }

 private:
  bool OpenCurrent() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    return fd_ >= 0;
  }

  void Close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  Status ReadToEnd(std::string& into) {
    char buffer[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return ErrnoError(errno, "read " + path_);
      }
      if (n == 0) {
        return OkStatus();
      }
      into.append(buffer, static_cast<size_t>(n));
    }
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

  std::vector<std::string> TakeCompleteLines() {
    std::vector<std::string> lines;
    size_t start = 0;
    size_t newline = 0;
    while ((newline = partial_.find('\n', start)) != std::string::npos) {
      lines.push_back(partial_.substr(start, newline - start));
      start = newline + 1;
    }
    partial_.erase(0, start);
    return lines;
  }

  const std::string path_;
  int fd_ = -1;
  std::string initial_;
  std::string partial_;  // bytes after the last newline read
};

}  // namespace

std::unique_ptr<LogFollower> LogFollower::Open(const std::string& path) {
  return std::make_unique<PosixLogFollower>(path);
}

}  // namespace rebound::api
