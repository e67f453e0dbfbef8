#pragma once

// UniqueFd: owns a file descriptor and closes it once, like std::unique_ptr for fds.
//
//   UniqueFd pidfd(PidfdOpen(pid));
//   if (!pidfd.IsOpen()) { ... }
//   ::poll(..., pidfd.get(), ...);   // closed when pidfd goes out of scope

#include <unistd.h>

#include <utility>

namespace rebound {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  // Closes the fd held (if any) and holds `fd` instead.
  void Reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }
  int get() const { return fd_; }
  bool IsOpen() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace rebound
