#pragma once

// DataDirLock: one daemon per data directory, and one per services' run directory. Holds an
// exclusive flock on DIR/daemon.lock for the daemon's lifetime; the file names the holder
// for the error a second daemon prints. The kernel drops the lock when the process dies,
// however it dies.
//
//   auto lock = DataDirLock::Acquire("/var/lib/rebound");
//   if (!lock.ok()) { std::cerr << lock.error().message(); return 1; }
//   auto run_lock = DataDirLock::AcquireRunDir("/run/rebound", "/var/lib/rebound");

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"

namespace rebound::engine {

class DataDirLock {
 public:
  // A conflict Error naming the pid of the daemon that holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  // The services' run directory ([daemon] run_dir) is not protected by the data directory's
  // lock: shims are known by their name and run directory alone, so two daemons sharing one
  // would adopt and signal each other's services. RUN_DIR/daemon.lock names the holder's pid
  // and data_dir; a conflict Error quotes both.
  static Result<std::unique_ptr<DataDirLock>> AcquireRunDir(const std::string& run_dir,
                                                            const std::string& data_dir);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  // Locks `path` and writes `holder` into it; a held lock is a conflict Error made by
  // `conflict` from what the holder wrote.
  static Result<std::unique_ptr<DataDirLock>> AcquireFile(
      const std::string& path, const std::string& holder,
      const std::function<std::string(const std::string& holder)>& conflict);
  int fd_;
};

}  // namespace rebound::engine
