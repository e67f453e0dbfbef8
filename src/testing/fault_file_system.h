#pragma once

// FaultFileSystem: wraps a real FileSystem and injects the faults that recovery code must
// survive: fsync errors, a full disk, torn writes, failed renames.
//
//   FaultFileSystem fs(DefaultFileSystem());
//   fs.set_fail_sync(true);
//   EXPECT_FALSE(WriteFileAtomically(fs, path, "x").ok());
//
// Thread-safe for configuration changes between operations (a test's setter calls race with
// nothing). Wrapped file system must outlive this.

#include <atomic>
#include <cstdint>
#include <functional>

#include "base/file_system.h"

namespace rebound::testing {

class FaultFileSystem final : public FileSystem {
 public:
  explicit FaultFileSystem(FileSystem& base) : base_(base) {}

  // Every Sync() fails with EIO.
  void set_fail_sync(bool fail) { fail_sync_ = fail; }
  // Appends fail with ENOSPC once this many more bytes have been written (a full disk).
  // A negative value means unlimited.
  void set_space_left(int64_t bytes) { space_left_ = bytes; }
  // The next Append writes only the first half of its data, then fails with EIO.
  void set_tear_next_write(bool tear) { tear_next_write_ = tear; }
  // Rename() fails with EIO.
  void set_fail_rename(bool fail) { fail_rename_ = fail; }
  // CreateDirs() fails with EIO.
  void set_fail_create_dirs(bool fail) { fail_create_dirs_ = fail; }

  // Called with each path after ReadFile has read it (to change the world between a read and
  // the caller's next step). Set it before the file system is in use.
  void set_after_read(std::function<void(const std::string& path)> after_read) {
    after_read_ = std::move(after_read);
  }

  // Called with each path before RemoveFile removes it (to check what is true at that moment).
  // Set it before the file system is in use.
  void set_on_remove(std::function<void(const std::string& path)> on_remove) {
    on_remove_ = std::move(on_remove);
  }

  int sync_calls() const { return sync_calls_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path, int mode) override;
  Result<std::string> ReadFile(const std::string& path) override {
    Result<std::string> read = base_.ReadFile(path);
    if (after_read_) {
      after_read_(path);
    }
    return read;
  }
  Status Rename(const std::string& from, const std::string& to) override;
  Status SyncDir(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override {
    if (on_remove_) {
      on_remove_(path);
    }
    return base_.RemoveFile(path);
  }
  Status CreateDirs(const std::string& path) override;
  bool Exists(const std::string& path) override { return base_.Exists(path); }
  Result<int> FileMode(const std::string& path) override { return base_.FileMode(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    return base_.ListDir(dir);
  }

 private:
  friend class FaultWritableFile;

  FileSystem& base_;
  std::atomic<bool> fail_sync_{false};
  std::atomic<int64_t> space_left_{-1};
  std::atomic<bool> tear_next_write_{false};
  std::atomic<bool> fail_rename_{false};
  std::atomic<bool> fail_create_dirs_{false};
  std::atomic<int> sync_calls_{0};
  std::function<void(const std::string&)> on_remove_;
  std::function<void(const std::string&)> after_read_;
};

}  // namespace rebound::testing
