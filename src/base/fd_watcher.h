#pragma once

// FdWatcher: calls back when a file descriptor becomes readable (the daemon's reactor
// implements it). Adapters that wait for processes (pidfds) or sockets take one.
//
//   REBOUND_RETURN_IF_ERROR(watcher.WatchFd(pidfd, [this] { OnExit(); }));
//   watcher.UnwatchFd(pidfd);   // before closing it

#include <functional>

#include "base/error.h"

namespace rebound {

class FdWatcher {
 public:
  virtual ~FdWatcher() = default;
  virtual Status WatchFd(int fd, std::function<void()> on_readable) = 0;
  virtual void UnwatchFd(int fd) = 0;
};

}  // namespace rebound
