#pragma once

// NotifySocket: the NOTIFY_SOCKET of one service, a Unix datagram socket on which a program
// written for systemd's Type=notify reports READY=1, WATCHDOG=1 and STATUS=... (sd_notify).
//
//   auto socket = NotifySocket::Bind(data_dir + "/run/api.notify");
//   env["NOTIFY_SOCKET"] = (*socket)->address();
//   reactor.WatchFd((*socket)->fd(), [&] {
//     for (const std::string& datagram : (*socket)->ReceiveAll()) probe.OnNotify(Parse(...));
//   });
//
// The address depends only on the path, so a daemon restarted after a crash binds the same
// one and services it re-adopts keep reaching it. A path too long for a socket address
// (108 bytes) becomes an abstract address ("@rebound-notify-<hash of the path>").
// Not thread-safe; one owner (the reactor). The destructor closes and unlinks.

#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace rebound::health {

class NotifySocket {
 public:
  static Result<std::unique_ptr<NotifySocket>> Bind(const std::string& path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  int fd() const { return fd_; }
  // What NOTIFY_SOCKET must hold: the path, or "@name" for an abstract address.
  const std::string& address() const { return address_; }
  // Every datagram waiting now (non-blocking); empty when none.
  std::vector<std::string> ReceiveAll();

 private:
  NotifySocket(int fd, std::string address, std::string unlink_path)
      : fd_(fd), address_(std::move(address)), unlink_path_(std::move(unlink_path)) {}

  int fd_;
  std::string address_;
  std::string unlink_path_;  // empty for an abstract address
};

}  // namespace rebound::health
