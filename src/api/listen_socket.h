#pragma once

// ListeningSocket: the TCP socket the HTTP server accepts on, opened here rather than by
// cpp-httplib so that the backlog is large (httplib hard-codes 5, which drops connections
// under load), Nagle is off (accepted sockets inherit TCP_NODELAY on Linux), SO_REUSEPORT is
// NOT set (httplib sets it, which would let a second daemon share the port silently), and a
// failed bind reports its errno ("address in use") instead of a bare false.
//
//   Result<ListeningSocket> socket = ListeningSocket::Open("127.0.0.1", 0, 1024);
//   if (!socket.ok()) return socket.error();
//   int port = socket->port();       // the ephemeral port chosen by the kernel
//
// Owns the descriptor (closed by the destructor); movable, not copyable. Not thread-safe,
// except Shutdown(), which may be called while another thread blocks in accept().

#include <string>

#include "base/error.h"

namespace rebound::api {

class ListeningSocket {
 public:
  // Resolves `host` (numeric or a name such as "localhost"), binds the first address that
  // accepts, listens with `backlog`. port 0 picks an ephemeral port.
  // Errors: validation (bad host or port), conflict (address in use), permission, network.
  static Result<ListeningSocket> Open(const std::string& host, int port, int backlog);

  ListeningSocket(ListeningSocket&& other) noexcept;
  ListeningSocket& operator=(ListeningSocket&& other) noexcept;
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  ~ListeningSocket();

  int fd() const { return fd_; }
  int port() const { return port_; }
  // A duplicate descriptor for a library that closes what it is given; the caller owns it.
  Result<int> Duplicate() const;
  // Wakes every accept() on this socket (and its duplicates) with an error.
  void Shutdown();

 private:
  ListeningSocket(int fd, int port) : fd_(fd), port_(port) {}

  int fd_ = -1;
  int port_ = 0;
};

// True for 127.0.0.0/8, ::1, ::ffff:127.x and "localhost": only this machine can connect.
bool IsLoopbackHost(const std::string& host);

}  // namespace rebound::api
