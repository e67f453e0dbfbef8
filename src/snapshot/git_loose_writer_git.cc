// Loose objects written by rebound itself, for GitStore::CommitFile. libgit2's writer fsyncs
// every object file and its directory (6 device flushes for a blob, a tree and a commit);
// here the three files are written and renamed into place without a sync, and one syncfs()
// then makes all of them durable with a single flush, before the ref that names them is
// updated (which libgit2 still does, with its fsyncs). docs/benchmarks.md has the numbers.

#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "snapshot/git_internal_git.h"

namespace rebound::snapshot::git_internal {
namespace {

// "blob 123\0" + raw, deflated as git's loose format wants.
Result<std::string> Deflate(git_object_t type, std::string_view raw) {
  std::string plain =
      std::string(git_object_type2string(type)) + " " + std::to_string(raw.size()) + '\0';
  plain.append(raw);
  uLongf size = compressBound(plain.size());
  std::string deflated(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(deflated.data()), &size,
                reinterpret_cast<const Bytef*>(plain.data()), plain.size(), Z_BEST_SPEED) != Z_OK) {
    return ResourceError("compressing a git object failed");
  }
  deflated.resize(size);
  return deflated;
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError(errno, "writing " + path);
    }
    written += static_cast<size_t>(n);
  }
  return OkStatus();
}

git_oid Hash(const std::string& raw, git_object_t type) {
  git_oid id;
  git_odb_hash(&id, raw.data(), raw.size(), type);
  return id;
}

}  // namespace

SnapshotObjects BuildSnapshotObjects(const std::string& file_path, const std::string& content,
                                     const std::string& message, WallTime time,
                                     const std::optional<git_oid>& parent) {
  SnapshotObjects objects;
  const git_oid blob = Hash(content, GIT_OBJECT_BLOB);
  objects.all.emplace_back(blob, GIT_OBJECT_BLOB, content);
  std::string tree = "100644 " + file_path + std::string(1, '\0');
  tree.append(reinterpret_cast<const char*>(blob.id), GIT_OID_RAWSZ);
  const git_oid tree_id = Hash(tree, GIT_OBJECT_TREE);
  objects.all.emplace_back(tree_id, GIT_OBJECT_TREE, std::move(tree));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch());
  const std::string signature =
      "rebound <rebound@localhost> " + std::to_string(seconds.count()) + " +0000\n";
  std::string commit = "tree " + OidHex(&tree_id) + "\n";
  if (parent) {
    commit += "parent " + OidHex(&*parent) + "\n";
  }
  commit += "author " + signature + "committer " + signature + "\n" + message;
  objects.all.emplace_back(Hash(commit, GIT_OBJECT_COMMIT), GIT_OBJECT_COMMIT, std::move(commit));
  return objects;
}

Result<std::string> WriteLooseObjectUnsynced(const std::string& objects_dir, const git_oid& id,
                                             git_object_t type, std::string_view raw) {
  const std::string hex = OidHex(&id);
  const std::string dir = objects_dir + "/" + hex.substr(0, 2);
  const std::string path = dir + "/" + hex.substr(2);
  if (::access(path.c_str(), F_OK) == 0) {
    return std::string();  // content-addressed: the same bytes are already there
  }
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(errno, "creating " + dir);
  }
  auto deflated = Deflate(type, raw);
  if (!deflated.ok()) {
    return deflated.error();
  }
  std::string temp = dir + "/tmp_obj_XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return ErrnoError(errno, "creating a temporary file in " + dir);
  }
  Status written = WriteAll(fd, *deflated, temp);
  if (::fchmod(fd, 0444) != 0 && written.ok()) {
    written = ErrnoError(errno, "making " + temp + " read-only");
  }
  if (::close(fd) != 0 && written.ok()) {
    written = ErrnoError(errno, "closing " + temp);
  }
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = ErrnoError(errno, "renaming " + temp + " to " + path);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written.error();
  }
  return path;
}

Result<FileSystemFlush> FileSystemFlush::Open(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoError(errno, "opening " + directory);
  }
  return FileSystemFlush(fd, directory);
}

FileSystemFlush::FileSystemFlush(FileSystemFlush&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), directory_(std::move(other.directory_)) {}

FileSystemFlush::~FileSystemFlush() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Status FileSystemFlush::Flush() {
  return ::syncfs(fd_) == 0 ? OkStatus() : ErrnoError(errno, "syncfs of " + directory_);
}

}  // namespace rebound::snapshot::git_internal
