#pragma once

// Helpers shared by the API integration tests: a raw HTTP exchange over a socket (for
// requests httplib::Client will not send) and a port that nothing listens on.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "api/listen_socket.h"

namespace rebound::testing {

// True once `response` holds the headers and as many body bytes as Content-Length says.
inline bool IsCompleteResponse(const std::string& response) {
  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return false;
  }
  const size_t length_at = response.find("Content-Length: ");
  if (length_at == std::string::npos || length_at > header_end) {
    return true;
  }
  const size_t length = std::stoul(response.substr(length_at + 16));
  return response.size() >= header_end + 4 + length;
}

// Sends `request` to 127.0.0.1:port and returns everything read until the server closes the
// connection, the response is complete, or 5 s pass without data.
inline std::string RawExchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    ssize_t n = 0;
    while (!IsCompleteResponse(response) && (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
      response.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

// A loopback port with no listener: bound to find a free one, then released.
inline int UnusedPort() {
  auto socket = api::ListeningSocket::Open("127.0.0.1", 0, 1);
  return socket.ok() ? socket->port() : 1;
}

}  // namespace rebound::testing
