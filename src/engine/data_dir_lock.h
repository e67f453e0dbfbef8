#pragma once

// DataDirLock: one daemon per data directory. Holds an exclusive flock on DATA_DIR/daemon.lock
// for the daemon's lifetime; the file names the holder's pid for the error a second daemon
// prints. The kernel drops the lock when the process dies, however it dies.
//
//   auto lock = DataDirLock::Acquire("/var/lib/rebound");
//   if (!lock.ok()) { std::cerr << lock.error().message(); return 1; }

#include <memory>
#include <string>

#include "base/error.h"

namespace rebound::engine {

class DataDirLock {
 public:
  // A conflict Error naming the pid of the daemon that holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace rebound::engine
