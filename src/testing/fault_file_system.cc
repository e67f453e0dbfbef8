#include "testing/fault_file_system.h"

#include <cerrno>

namespace rebound::testing {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFileSystem& fs, std::unique_ptr<WritableFile> base, std::string path)
      : fs_(fs), base_(std::move(base)), path_(std::move(path)) {}

  Status Append(std::string_view data) override {
    if (fs_.tear_next_write_.exchange(false)) {
      (void)base_->Append(data.substr(0, data.size() / 2));
      return ErrnoError(EIO, "write " + path_ + " (injected torn write)");
    }
    const int64_t space = fs_.space_left_.load();
    if (space >= 0) {
      if (static_cast<int64_t>(data.size()) > space) {
        (void)base_->Append(data.substr(0, static_cast<size_t>(space)));
        fs_.space_left_ = 0;
        return ErrnoError(ENOSPC, "write " + path_ + " (injected full disk)");
      }
      fs_.space_left_ = space - static_cast<int64_t>(data.size());
    }
    return base_->Append(data);
  }

  Status Sync() override {
    ++fs_.sync_calls_;
    if (fs_.fail_sync_) {
      return ErrnoError(EIO, "fdatasync " + path_ + " (injected)");
    }
    return base_->Sync();
  }

  Status Close() override { return base_->Close(); }

 private:
  FaultFileSystem& fs_;
  std::unique_ptr<WritableFile> base_;
  std::string path_;
};

Result<std::unique_ptr<WritableFile>> FaultFileSystem::NewWritableFile(const std::string& path,
                                                                       int mode) {
  auto file = base_.NewWritableFile(path, mode);
  if (!file.ok()) {
    return file.error();
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(*this, std::move(*file), path));
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  if (fail_rename_) {
    return ErrnoError(EIO, "rename " + from + " (injected)");
  }
  return base_.Rename(from, to);
}

Status FaultFileSystem::CreateDirs(const std::string& path) {
  if (fail_create_dirs_) {
    return ErrnoError(EIO, "create directory " + path + " (injected)");
  }
  return base_.CreateDirs(path);
}

Status FaultFileSystem::SyncDir(const std::string& dir) {
  ++sync_calls_;
  if (fail_sync_) {
    return ErrnoError(EIO, "fsync directory " + dir + " (injected)");
  }
  return base_.SyncDir(dir);
}

}  // namespace rebound::testing
