#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "cli/connect_probe.h"

namespace rebound::cli {
namespace {

std::string Lowercased(const char* text) {
  std::string lower(text);
  if (!lower.empty()) {
    lower[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lower[0])));
  }
  return lower;
}

// The errno of one non-blocking connect bounded by `timeout`; 0 when it connects.
int ConnectError(const addrinfo& address, std::chrono::milliseconds timeout) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          address.ai_protocol);
  if (fd < 0) {
    return errno;
  }
  int err = 0;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    err = errno;
  }
  if (err == EINPROGRESS) {
    pollfd writable{.fd = fd, .events = POLLOUT, .revents = 0};
    err = ETIMEDOUT;
    if (::poll(&writable, 1, static_cast<int>(timeout.count())) == 1) {
      socklen_t length = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length);
    }
  }
  ::close(fd);
  return err;
}

}  // namespace

std::string ConnectFailureReason(const std::string& host, int port,
                                 std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses); rc != 0) {
    return std::string("cannot resolve host: ") + gai_strerror(rc);
  }
  const int err = ConnectError(*addresses, timeout);
  ::freeaddrinfo(addresses);
  return err == 0 ? "connection failed" : Lowercased(std::strerror(err));
}

}  // namespace rebound::cli
