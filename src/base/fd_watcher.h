#pragma once

// FdWatcher: calls back when a file descriptor becomes readable, or writable (the daemon's
// reactor implements it). Adapters that wait for processes (pidfds) or sockets take one.
//
//   REBOUND_RETURN_IF_ERROR(watcher.WatchFd(pidfd, [this] { OnExit(); }));
//   watcher.UnwatchFd(pidfd);   // before closing it

#include <functional>

#include "base/error.h"

namespace rebound {

class FdWatcher {
 public:
  virtual ~FdWatcher() = default;
  // Level-triggered: called again and again while readable, until UnwatchFd.
  virtual Status WatchFd(int fd, std::function<void()> on_readable) = 0;
  // The same for writability (e.g. a non-blocking connect that completed). A fd has one
  // watch at a time: UnwatchFd before watching it the other way.
  virtual Status WatchFdWritable(int fd, std::function<void()> on_writable) = 0;
  virtual void UnwatchFd(int fd) = 0;
};

}  // namespace rebound
