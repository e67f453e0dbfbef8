#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "engine/data_dir_lock.h"

namespace rebound::engine {

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  return AcquireFile(data_dir + "/daemon.lock", std::to_string(::getpid()),
                     [&](const std::string& holder) {
                       return "another rebound daemon (pid " + holder +
                              ") is already running on " + data_dir +
                              "; stop it first, or use another data_dir";
                     });
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::AcquireRunDir(const std::string& run_dir,
                                                                const std::string& data_dir) {
  return AcquireFile(
      run_dir + "/daemon.lock",
      "pid " + std::to_string(::getpid()) + ", data_dir " + data_dir,
      [&](const std::string& holder) {
        return "daemon.run_dir " + run_dir + " is already used by another rebound daemon (" +
               holder +
               "): two daemons sharing it would adopt and signal each other's services; give "
               "each daemon a run_dir of its own";
      });
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::AcquireFile(
    const std::string& path, const std::string& holder,
    const std::function<std::string(const std::string& holder)>& conflict) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoError(errno, "open " + path);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char other[256] = {};
    (void)!::pread(fd, other, sizeof(other) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return ConflictError(conflict(other));
    }
    return ErrnoError(err, "lock " + path);
  }
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, holder.data(), holder.size(), 0) < 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(err, "write " + path);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace rebound::engine
