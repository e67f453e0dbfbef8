#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/checksum.h"
#include "health/notify_socket.h"

namespace rebound::health {
namespace {

constexpr size_t kMaxDatagram = 4096;  // sd_notify messages are short lines

}  // namespace

Result<std::unique_ptr<NotifySocket>> NotifySocket::Bind(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string address = path;
  std::string unlink_path = path;
  socklen_t length = 0;
  if (path.size() < sizeof(addr.sun_path)) {
    std::memcpy(addr.sun_path, path.data(), path.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    ::unlink(path.c_str());  // a socket file left by an earlier daemon
  } else {
    const std::string name = "rebound-notify-" + Xxh3Hex(path);
    address = "@" + name;
    unlink_path.clear();
    std::memcpy(addr.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return ErrnoError(errno, "notify socket " + address);
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(err, "bind notify socket " + address);
  }
  return std::unique_ptr<NotifySocket>(
      new NotifySocket(fd, std::move(address), std::move(unlink_path)));
}

NotifySocket::~NotifySocket() {
  ::close(fd_);
  if (!unlink_path_.empty()) {
    ::unlink(unlink_path_.c_str());
  }
}

std::vector<std::string> NotifySocket::ReceiveAll() {
  std::vector<std::string> datagrams;
  char buffer[kMaxDatagram];
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0) {
      break;  // EAGAIN: drained (any other error: nothing more to read now either)
    }
    datagrams.emplace_back(buffer, static_cast<size_t>(n));
  }
  return datagrams;
}

}  // namespace rebound::health
