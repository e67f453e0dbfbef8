// The work tree side of a snapshot in an application's repository (git_application_git.cc):
// git's index lock, the document file, its index entry. git_internal_git.h declares these.

#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "snapshot/git_internal_git.h"

namespace rebound::snapshot::git_internal {
namespace {

Status WriteWholeFd(int fd, std::string_view data, const std::string& path) {
  for (size_t written = 0; written < data.size();) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno != EINTR) {
      return ErrnoError(errno, "writing " + path);
    }
    written += n > 0 ? static_cast<size_t>(n) : 0;
  }
  return OkStatus();
}

Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError(errno, "opening " + path + " to sync it");
  }
  const int synced = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  return synced == 0 ? OkStatus() : ErrnoError(saved, "fsync of " + path);
}

std::string ParentOf(const std::string& path) {
  return std::filesystem::path(path).parent_path().string();
}

// temp -> fdatasync -> rename over `path` -> fsync of the directory.
Status ReplaceFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  std::string temp = path + ".rebound-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return ErrnoError(errno, "creating a temporary file beside " + path);
  }
  Status written = WriteWholeFd(fd, content, temp);
  if (written.ok() && ::fchmod(fd, mode) != 0) {
    written = ErrnoError(errno, "chmod " + temp);
  }
  if (written.ok() && ::fdatasync(fd) != 0) {
    written = ErrnoError(errno, "fdatasync " + temp);
  }
  if (::close(fd) != 0 && written.ok()) {
    written = ErrnoError(errno, "closing " + temp);
  }
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = ErrnoError(errno, "renaming " + temp + " to " + path);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  return SyncPath(ParentOf(path), O_RDONLY | O_DIRECTORY);
}

}  // namespace

std::string GitCommandRunning(const std::string& repo_path, const std::string& lock_path) {
  return "a git command is running in " + repo_path + " (" + lock_path +
         " exists); nothing was written: capture again when it has finished (if no git "
         "command is running, one that was killed left the lock: remove it)";
}

Result<IndexLock> IndexLock::Acquire(const std::string& index_path,
                                     const std::string& repo_path) {
  const std::string lock_path = index_path + ".lock";
  const int fd = ::open(lock_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return ConflictError(GitCommandRunning(repo_path, lock_path));
    }
    return ErrnoError(errno, "creating " + lock_path);
  }
  ::close(fd);
  return IndexLock(index_path, lock_path);
}

IndexLock::IndexLock(IndexLock&& other) noexcept
    : index_path_(std::move(other.index_path_)), lock_path_(std::exchange(other.lock_path_, "")) {}

IndexLock::~IndexLock() {
  if (!lock_path_.empty()) {
    ::unlink(lock_path_.c_str());
  }
}

Result<std::optional<std::string>> IndexLock::ReadIndex() const {
  std::ifstream file(index_path_, std::ios::binary);
  if (!file) {
    if (std::error_code error; !std::filesystem::exists(index_path_, error) && !error) {
      return std::optional<std::string>();  // a repository whose index was never written
    }
    return ErrnoError(errno, "reading " + index_path_);
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    return ErrnoError(errno, "reading " + index_path_);
  }
  return std::optional<std::string>(std::move(bytes));
}

namespace {

// `current` with `entry` added or replaced, written by libgit2 to `staged` and synced.
Status WriteStagedIndex(const std::string& staged, const std::optional<std::string>& current,
                        const git_index_entry& entry) {
  if (current) {  // not synced: libgit2 replaces it with the new index, which is
    std::ofstream copy(staged, std::ios::binary | std::ios::trunc);
    copy.write(current->data(), static_cast<std::streamsize>(current->size()));
    if (!copy.flush()) {
      return ErrnoError(errno, "writing " + staged);
    }
  }
  git_index* index = nullptr;
  if (int rc = git_index_open(&index, staged.c_str()); rc != 0) {
    return GitError(rc, "reading a copy of the index");
  }
  Owned<git_index, git_index_free> owned(index);
  if (int rc = git_index_add(index, &entry); rc != 0) {
    return GitError(rc, std::string("updating the index entry of ") + entry.path);
  }
  if (int rc = git_index_write(index); rc != 0) {
    return GitError(rc, "writing the new index");
  }
  return SyncPath(staged, O_RDONLY);
}

}  // namespace

// libgit2 writes an index only through its own index.lock, which this object holds: the new
// index is made by libgit2 in a file of its own beside it (a copy of the current one, so every
// other entry and extension libgit2 keeps is kept), then renamed over the index.
Status IndexLock::InstallWithEntry(const std::optional<std::string>& current,
                                   const git_index_entry& entry) {
  const std::string staged = index_path_ + ".rebound";
  std::error_code error;
  std::filesystem::remove(staged, error);
  Status made = WriteStagedIndex(staged, current, entry);
  if (made.ok() && ::rename(staged.c_str(), index_path_.c_str()) != 0) {
    made = ErrnoError(errno, "renaming " + staged + " to " + index_path_);
  }
  if (!made.ok()) {
    std::filesystem::remove(staged, error);  // no litter in the user's .git
    return made;
  }
  return SyncPath(ParentOf(index_path_), O_RDONLY | O_DIRECTORY);
}

Status IndexLock::Restore(const std::optional<std::string>& previous) {
  if (!previous) {
    if (::unlink(index_path_.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError(errno, "removing " + index_path_);
    }
    return OkStatus();
  }
  return ReplaceFileAtomically(index_path_, *previous, 0644);
}

Status CheckDocumentLocation(const std::string& work_dir, const std::string& document_path,
                             bool create_directories) {
  const auto refuse = [&](const std::string& at, const std::string& what) {
    return ValidationError(
        work_dir + at + " is " + what + ": rebound writes [snapshots] document_path (" +
        document_path + ") only as a regular file inside the work tree, through real "
        "directories; choose another document_path or replace it with a directory/file");
  };
  for (size_t slash = document_path.find('/'); slash != std::string::npos;
       slash = document_path.find('/', slash + 1)) {
    const std::string at = document_path.substr(0, slash);
    const std::string dir = work_dir + at;
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
      if (errno != ENOENT) {
        return ErrnoError(errno, "lstat " + dir);
      }
      if (!create_directories) {
        return OkStatus();  // the rest is created by the capture
      }
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoError(errno, "creating " + dir);
      }
      // Its entry in its parent is durable too, or a crash could lose the file's whole path.
      REBOUND_RETURN_IF_ERROR(SyncPath(ParentOf(dir), O_RDONLY | O_DIRECTORY));
      if (::lstat(dir.c_str(), &st) != 0) {
        return ErrnoError(errno, "lstat " + dir);
      }
    }
    if (S_ISLNK(st.st_mode)) {
      return refuse(at, "a symbolic link (it could lead outside the repository)");
    }
    if (!S_ISDIR(st.st_mode)) {
      return refuse(at, "not a directory");
    }
  }
  struct stat st {};
  if (::lstat((work_dir + document_path).c_str(), &st) != 0) {
    return OkStatus();
  }
  if (S_ISLNK(st.st_mode)) {
    return refuse(document_path, "a symbolic link");
  }
  return S_ISREG(st.st_mode) ? OkStatus() : refuse(document_path, "not a regular file");
}

Result<struct stat> ReplaceWorkTreeFile(const std::string& work_dir,
                                        const std::string& document_path,
                                        std::string_view content) {
  REBOUND_RETURN_IF_ERROR(CheckDocumentLocation(work_dir, document_path, /*create=*/true));
  const std::string path = work_dir + document_path;
  REBOUND_RETURN_IF_ERROR(ReplaceFileAtomically(path, content, 0644));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoError(errno, "stat " + path);
  }
  return st;
}

git_index_entry IndexEntryFor(const std::string& document_path, const git_oid& blob_id,
                              const struct stat& st) {
  git_index_entry entry{};
  entry.ctime.seconds = static_cast<int32_t>(st.st_ctim.tv_sec);
  entry.ctime.nanoseconds = static_cast<uint32_t>(st.st_ctim.tv_nsec);
  entry.mtime.seconds = static_cast<int32_t>(st.st_mtim.tv_sec);
  entry.mtime.nanoseconds = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  entry.dev = static_cast<uint32_t>(st.st_dev);
  entry.ino = static_cast<uint32_t>(st.st_ino);
  entry.mode = GIT_FILEMODE_BLOB;
  entry.uid = st.st_uid;
  entry.gid = st.st_gid;
  entry.file_size = static_cast<uint32_t>(st.st_size);
  entry.id = blob_id;
  entry.path = document_path.c_str();
  return entry;
}

}  // namespace rebound::snapshot::git_internal
