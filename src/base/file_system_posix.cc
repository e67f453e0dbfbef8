#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "base/file_system.h"

namespace rebound {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }

  Status Append(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t written = ::write(fd_, data.data(), data.size());
      if (written < 0) {
        if (errno == EINTR) {
          continue;
        }
        return ErrnoError(errno, "write " + path_);
      }
      data.remove_prefix(static_cast<size_t>(written));
    }
    return OkStatus();
  }

  Status Sync() override {
    if (::fdatasync(fd_) != 0) {
      return ErrnoError(errno, "fdatasync " + path_);
    }
    return OkStatus();
  }

  Status Close() override {
    const int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) {
      return ErrnoError(errno, "close " + path_);
    }
    return OkStatus();
  }

 private:
  int fd_;
  std::string path_;
};

Error FromErrorCode(const std::error_code& code, const std::string& context) {
  return ErrnoError(code.value(), context);
}

class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        int mode) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
      return ErrnoError(errno, "open " + path);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(fd, path));
  }

  Result<std::string> ReadFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoError(errno, "open " + path);
    }
    std::string contents;
    char buffer[64 * 1024];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return ErrnoError(err, "read " + path);
      }
      if (n == 0) {
        break;
      }
      contents.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return contents;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoError(errno, "rename " + from + " to " + to);
    }
    return OkStatus();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoError(errno, "open directory " + dir);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
      return ErrnoError(err, "fsync directory " + dir);
    }
    return OkStatus();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) {
      return ErrnoError(errno, "remove " + path);
    }
    return OkStatus();
  }

  Status CreateDirs(const std::string& path) override {
    std::error_code code;
    std::filesystem::create_directories(path, code);
    if (code) {
      return FromErrorCode(code, "create directory " + path);
    }
    return OkStatus();
  }

  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<int> FileMode(const std::string& path) override {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      return ErrnoError(errno, "stat " + path);
    }
    return static_cast<int>(info.st_mode & 07777);
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::error_code code;
    std::vector<std::string> names;
    for (std::filesystem::directory_iterator it(dir, code), end; !code && it != end;
         it.increment(code)) {
      names.push_back(it->path().filename().string());
    }
    if (code) {
      return FromErrorCode(code, "list directory " + dir);
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

FileSystem& DefaultFileSystem() {
  static PosixFileSystem file_system;
  return file_system;
}

}  // namespace rebound
