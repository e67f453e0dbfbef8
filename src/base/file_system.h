#pragma once

// FileSystem: every file operation rebound makes, behind one interface (leveldb's Env), so
// tests can inject faults: a failed fsync, a full disk, a torn write.
//
//   FileSystem& fs = DefaultFileSystem();
//   auto file = fs.NewWritableFile("/data/x.tmp");
//   if (!file.ok()) return file.error();
//   REBOUND_RETURN_IF_ERROR((*file)->Append("hello"));
//   REBOUND_RETURN_IF_ERROR((*file)->Sync());
//
// Errors carry the path and the errno category (ENOSPC -> resource, EACCES -> permission...).
// Implementations are thread-safe; a WritableFile belongs to one thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace rebound {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // fdatasync: the data is on disk when this returns ok.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates or truncates `path` with `mode` (before umask).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                int mode) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync of a directory, so a rename or create inside it survives power loss.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // mkdir -p.
  virtual Status CreateDirs(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // The permission bits of `path` (st_mode & 07777), e.g. 0600: secrets such as the API
  // token are refused when others could read them.
  virtual Result<int> FileMode(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
};

// The real, POSIX file system. Lives for the whole process.
FileSystem& DefaultFileSystem();

}  // namespace rebound
