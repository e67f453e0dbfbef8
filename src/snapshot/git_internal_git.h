#pragma once

// Internal to the libgit2 adapter of GitStore (git_store_git.cc, git_retention_git.cc,
// git_remote_git.cc, git_repair_git.cc, git_loose_writer_git.cc, git_application_git.cc,
// git_work_tree_git.cc; defined in git_internal_git.cc unless said otherwise):
// owning wrappers for libgit2 objects and the one place libgit2 return codes are classified.
// Include only from *_git.cc files.
//
//   OwnedCommit commit = std::move(*LookupCommit(repo, "HEAD"));
//   if (int rc = git_...(...); rc != 0) return GitError(rc, "what was being done");

#include <git2.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "snapshot/git_store.h"

namespace rebound::snapshot::git_internal {

template <typename T, void (*Free)(T*)>
struct Freer {
  void operator()(T* object) const { Free(object); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Freer<T, Free>>;

using OwnedObject = Owned<git_object, git_object_free>;
using OwnedCommit = Owned<git_commit, git_commit_free>;
using OwnedTree = Owned<git_tree, git_tree_free>;
using OwnedTreeEntry = Owned<git_tree_entry, git_tree_entry_free>;
using OwnedBlob = Owned<git_blob, git_blob_free>;
using OwnedBuilder = Owned<git_treebuilder, git_treebuilder_free>;
using OwnedSignature = Owned<git_signature, git_signature_free>;
using OwnedWalk = Owned<git_revwalk, git_revwalk_free>;
using OwnedOdb = Owned<git_odb, git_odb_free>;
using OwnedOdbObject = Owned<git_odb_object, git_odb_object_free>;
using OwnedRemote = Owned<git_remote, git_remote_free>;
using OwnedReference = Owned<git_reference, git_reference_free>;
using OwnedRepository = Owned<git_repository, git_repository_free>;
using OwnedPackBuilder = Owned<git_packbuilder, git_packbuilder_free>;

// Classifies a libgit2 return code, with its last error message.
Error GitError(int code, const std::string& context);
std::string OidHex(const git_oid* oid);
// Turns on fsync of the git directory and strict hash checks, once per process.
void InitLibgit2Once();
// `revision` (id, prefix, tag, HEAD) peeled to a commit.
Result<OwnedCommit> LookupCommit(git_repository* repo, const std::string& revision);
// Every tag as (short name, the id it points at: the commit, or an annotated tag object).
std::vector<std::pair<std::string, git_oid>> ListTags(git_repository* repo);
// The commits named in the repository's `shallow` file: their parents' documents were pruned
// (docs/operations.md "Snapshot retention"), so no walk descends below them.
std::set<std::string> ReadShallow(const std::string& repo_path);
// Fetches every branch and tag of `url` into `repo`, overwriting its refs of the same name.
Status FetchAll(git_repository* repo, const std::string& url);
// Every object id in the pack whose index file is `index_path`.
Result<std::vector<git_oid>> ListPack(const std::string& index_path);
// The branch HEAD names ("refs/heads/master"), also before the first commit.
Result<std::string> HeadBranch(git_repository* repo);
// The blob, tree and commit of one snapshot, in the order they must be written (the commit
// last), as git's canonical bytes: the same objects git_commit_create would make.
struct SnapshotObjects {
  std::vector<std::tuple<git_oid, git_object_t, std::string>> all;
};
SnapshotObjects BuildSnapshotObjects(const std::string& file_path, const std::string& content,
                                     const std::string& message, WallTime time,
                                     const std::optional<git_oid>& parent);
// git_loose_writer_git.cc: writes the loose object `id` (of `type`, content `raw`) into
// `objects_dir` unless it is there, without any fsync (a FileSystemFlush makes it durable);
// returns the path it wrote, or "" when the object was already there.
Result<std::string> WriteLooseObjectUnsynced(const std::string& objects_dir, const git_oid& id,
                                             git_object_t type, std::string_view raw);
// syncfs(2) of the file system holding a directory: one device flush for everything written
// there. Opened BEFORE the writes it is to make durable: syncfs reports only the writeback
// errors recorded after its file descriptor was opened (Linux >= 5.8).
class FileSystemFlush {
 public:
  static Result<FileSystemFlush> Open(const std::string& directory);
  FileSystemFlush(FileSystemFlush&& other) noexcept;
  FileSystemFlush& operator=(FileSystemFlush&&) = delete;
  ~FileSystemFlush();
  Status Flush();

 private:
  FileSystemFlush(int fd, std::string directory) : fd_(fd), directory_(std::move(directory)) {}
  int fd_;
  std::string directory_;
};
// git_store_git.cc: tag name -> the id of the commit it points at (annotated tags peeled),
// keyed by commit id; and one commit's CommitInfo with its tags.
std::multimap<std::string, std::string> TagsByCommit(git_repository* repo);
Result<CommitInfo> ReadCommitInfo(git_repository* repo, const git_oid& id,
                                  const std::multimap<std::string, std::string>& tags);
// git_work_tree_git.cc: the work tree of an application's repository.
// git's own lock on the index (`index.lock`, created O_EXCL as git does), held for a whole
// capture: no git command writes the index, or commits from it, meanwhile. Released (the lock
// file removed) on destruction.
class IndexLock {
 public:
  // A conflict Error (GitCommandRunning) when the lock exists.
  static Result<IndexLock> Acquire(const std::string& index_path, const std::string& repo_path);
  IndexLock(IndexLock&& other) noexcept;
  IndexLock& operator=(IndexLock&&) = delete;
  ~IndexLock();
  // The index file's bytes; nullopt when there is none.
  Result<std::optional<std::string>> ReadIndex() const;
  // `current` (ReadIndex) with `entry` added or replaced, written by libgit2 beside the index,
  // synced, and renamed over it.
  Status InstallWithEntry(const std::optional<std::string>& current, const git_index_entry& entry);
  // Puts `previous` (ReadIndex) back.
  Status Restore(const std::optional<std::string>& previous);

 private:
  IndexLock(std::string index_path, std::string lock_path)
      : index_path_(std::move(index_path)), lock_path_(std::move(lock_path)) {}
  std::string index_path_;
  std::string lock_path_;
};
// "a git command is running in REPO (LOCK exists) …": a lock file held by the user's git.
std::string GitCommandRunning(const std::string& repo_path, const std::string& lock_path);
// Refuses (validation) a `document_path` whose directories under `work_dir` (which ends in
// '/') are symbolic links or not directories, or which is itself a symbolic link or not a
// regular file; with `create_directories`, creates the missing directories, each synced in its
// parent.
Status CheckDocumentLocation(const std::string& work_dir, const std::string& document_path,
                             bool create_directories);
// WORK_DIR/DOCUMENT_PATH replaced atomically (temp, fdatasync, rename, fsync of the directory)
// with mode 0644, after CheckDocumentLocation (creating directories); its stat, for the index.
Result<struct stat> ReplaceWorkTreeFile(const std::string& work_dir,
                                        const std::string& document_path,
                                        std::string_view content);
// The index entry of a file just written (its stat data, so git finds it clean unread).
git_index_entry IndexEntryFor(const std::string& document_path, const git_oid& blob_id,
                              const struct stat& st);
// Why an application repository cannot be opened when its directory is missing (Open and
// CheckLocation say the same).
inline std::string NoApplicationRepositoryMessage(const std::string& path) {
  return "no git repository at " + path +
         ": with [snapshots] document_path, [snapshots] path must name the application's "
         "existing repository (the directory holding .git)";
}
// The ref a successful push records (the commit the remote's branch then held).
inline constexpr char kPushedRef[] = "refs/rebound/pushed";

}  // namespace rebound::snapshot::git_internal
