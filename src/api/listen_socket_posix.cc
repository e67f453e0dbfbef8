#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/listen_socket.h"

namespace rebound::api {
namespace {

Error BindError(int err, const std::string& where) {
  if (err == EADDRINUSE) {
    return ConflictError("listen on " + where +
                         ": address already in use (is another rebound daemon running?)");
  }
  return ErrnoError(err, "listen on " + where);
}

Result<int> BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return ErrnoError(errno, "getsockname");
  }
  if (address.ss_family == AF_INET6) {
    return static_cast<int>(ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port));
  }
  return static_cast<int>(ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port));
}

// One candidate address: socket, options, bind, listen. Returns the fd or the errno.
int TryBindAndListen(const addrinfo& candidate, int backlog, int& err) {
  const int fd =
      ::socket(candidate.ai_family, candidate.ai_socktype | SOCK_CLOEXEC, candidate.ai_protocol);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  const int yes = 1;
  // SO_REUSEADDR only: a restarted daemon can rebind despite TIME_WAIT connections.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  if (::bind(fd, candidate.ai_addr, candidate.ai_addrlen) != 0 || ::listen(fd, backlog) != 0) {
    err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Result<ListeningSocket> ListeningSocket::Open(const std::string& host, int port, int backlog) {
  const std::string where = host + ":" + std::to_string(port);
  if (port < 0 || port > 65535) {
    return ValidationError("listen on " + where + ": port must be 0..65535");
  }
  if (host.empty()) {
    return ValidationError("listen on " + where + ": empty host (use 127.0.0.1 for loopback)");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* candidates = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &candidates); rc != 0) {
    return ValidationError("listen on " + where + ": cannot resolve host: " + gai_strerror(rc));
  }
  int err = EADDRNOTAVAIL;
  int fd = -1;
  for (addrinfo* candidate = candidates; candidate != nullptr && fd < 0;
       candidate = candidate->ai_next) {
    fd = TryBindAndListen(*candidate, backlog, err);
  }
  ::freeaddrinfo(candidates);
  if (fd < 0) {
    return BindError(err, where);
  }
  Result<int> bound_port = BoundPort(fd);
  if (!bound_port.ok()) {
    ::close(fd);
    return bound_port.error().WithContext("listen on " + where);
  }
  return ListeningSocket(fd, *bound_port);
}

ListeningSocket::ListeningSocket(ListeningSocket&& other) noexcept
    : fd_(other.fd_), port_(other.port_) {
  other.fd_ = -1;
}

ListeningSocket& ListeningSocket::operator=(ListeningSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = other.fd_;
    port_ = other.port_;
    other.fd_ = -1;
  }
  return *this;
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<int> ListeningSocket::Duplicate() const {
  const int copy = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return ErrnoError(errno, "duplicate listening socket");
  }
  return copy;
}

void ListeningSocket::Shutdown() {
  if (fd_ >= 0) {
    ::shutdown(fd_, SHUT_RDWR);
  }
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace rebound::api
