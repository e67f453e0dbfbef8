#pragma once

// GitStore: the snapshot history, a bare git repository written through libgit2.
//
//   auto repo = GitStore::Open("/var/lib/rebound/snapshots");   // creates it if missing
//   auto id = (*repo)->CommitFile("recovery.json", json, "before upgrade", now);
//   REBOUND_RETURN_IF_ERROR((*repo)->Tag(*id, "pre-upgrade"));
//   auto text = (*repo)->ReadFile("pre-upgrade", "recovery.json");   // id, prefix or tag
//   auto last = (*repo)->FindAtOrBefore(some_time);                  // point in time
//
// Each commit's tree holds just the files committed, written directly (no index, no work
// tree), on top of HEAD. With GitStoreOptions::document_path the store is instead an
// application's own repository (a work tree, e.g. /srv/app): each snapshot commits that one
// path on the current branch and leaves every other file, index entry and branch alone
// (git_application_git.cc; docs/snapshots.md). libgit2's fsync of the git directory is turned on, so a commit that
// returned is on disk. Commit times have one-second resolution (git's).
// Thread-safe: one mutex serializes every call. Errors: not_found for an unknown revision,
// validation for a bad tag name, conflict for an existing tag or a lock a git command holds
// (GIT_ELOCKED), corruption for a damaged object, unknown for other libgit2 failures (each
// with libgit2's message). CommitFile in an application's repository: conflict for a state a
// git command or the user must settle first (a merge in progress, local changes to the
// document, a lock file), validation for one that needs a configuration change (a detached
// HEAD, a `filter` attribute, a symbolic link on the document's path).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"

struct git_repository;
struct git_commit;
struct git_oid;

namespace rebound::snapshot::git_internal {
class IndexLock;
}  // namespace rebound::snapshot::git_internal

namespace rebound::snapshot {

struct CommitInfo {
  std::string id = {};  // 40 hex digits
  int64_t time_s = 0;
  std::string message = {};  // first line
  std::vector<std::string> tags = {};
};

struct ObjectCheck {
  int64_t objects_checked = 0;
  std::vector<std::string> problems = {};     // "object 1a2b...: <why>"
  std::vector<std::string> bad_objects = {};  // the ids of the missing or damaged objects
};

struct RetentionPolicy {
  int keep = 0;  // the newest snapshots on HEAD to keep; 0: keep every snapshot
  // Also keep every snapshot newer than the last successful Push, so the next push never
  // needs a document that was pruned (set when a remote is configured).
  bool keep_unpushed = false;
};

struct PruneResult {
  int64_t kept = 0;             // snapshots listed after pruning (HEAD's newest, and tagged ones)
  int64_t dropped = 0;          // snapshots whose documents this call removed
  int64_t objects_removed = 0;  // trees and blobs deleted
};

struct RepairResult {
  int64_t restored = 0;                        // objects copied back from the remote
  std::vector<std::string> quarantined = {};   // damaged files moved to PATH/quarantine/
  std::vector<std::string> unrepairable = {};  // missing or damaged, and not on the remote
};

// What a remote holds compared with this repository (GitStore::CompareWithRemote).
struct RemoteComparison {
  std::string branch = {};       // "refs/heads/master"
  std::string local_head = {};   // "" for a repository without snapshots
  std::string remote_head = {};  // "" when the remote has no such branch yet
  // Local snapshots the remote does not have yet; -1 when the remote has snapshots this
  // repository does not (diverged or ahead). In an application's repository only the commits
  // that changed document_path count, not the application's own commits the remote lacks.
  int64_t remote_behind_by = 0;
  std::string last_pushed = {};  // the commit the last successful Push left there, or ""
};

struct GitStoreOptions {
  // Removes the *.lock files a writer killed mid-commit left (HEAD.lock, refs/**/*.lock,
  // packed-refs.lock), which would refuse every later commit. REQUIRES: the caller is the
  // repository's only writer (rebound holds the data directory's lock).
  bool remove_stale_locks = false;
  // "" (default): `path` is rebound's own bare repository, created when missing, whose commits
  // hold recovery.json alone. Otherwise a path relative to the top of the work tree of the
  // application's existing repository at `path`, e.g. "config/recovery.json": each snapshot
  // replaces that one path in a commit on the current branch, in the work tree and in the index.
  std::string document_path = {};
};

// "config/recovery.json" is fine; "", "/abs", "a/../b", "./a", ".git/x", "a//b" are not
// (validation Error saying why). Used by Open and by the configuration reader.
Status CheckDocumentPath(const std::string& document_path);

class GitStore {
 public:
  static Result<std::unique_ptr<GitStore>> Open(const std::string& path,
                                                GitStoreOptions options = {});
  // The checks of Open that need neither libgit2 nor the repository's contents, for a caller
  // that opens later but must refuse a misplaced repository now: an application repository
  // (document_path set) that does not exist; a work tree where rebound's own bare repository
  // would go (document_path unset). Validation and not_found errors, as Open returns them.
  static Status CheckLocation(const std::string& path, const GitStoreOptions& options);
  ~GitStore();
  GitStore(const GitStore&) = delete;
  GitStore& operator=(const GitStore&) = delete;

  const std::string& path() const { return path_; }
  // Where each snapshot's document sits in a commit's tree: "recovery.json" in rebound's own
  // repository, GitStoreOptions::document_path in an application's.
  const std::string& document_path() const { return document_path_; }
  bool IsApplicationRepository() const { return application_; }
  // The stale lock files Open removed (see GitStoreOptions), for the caller to log.
  const std::vector<std::string>& removed_locks() const { return removed_locks_; }

  // A new commit on HEAD whose tree holds `file_path` -> `content` (in an application's
  // repository: HEAD's tree with `file_path` replaced, and the work tree file and its index
  // entry updated too). `write_alongside`, when set, runs after the file system flush that makes
  // the objects durable is opened and before anything is written: files it writes without their
  // own syncs on the same file system (FlushCovers) are durable before the branch moves; its
  // error aborts the commit. Returns the new commit's id.
  Result<std::string> CommitFile(const std::string& file_path, const std::string& content,
                                 const std::string& message, WallTime time,
                                 const std::function<Status()>& write_alongside = {});
  // True when the flush of a commit (one syncfs of the repository's file system) also makes
  // files written in `directory` durable: the same file system.
  bool FlushCovers(const std::string& directory);
  // The snapshots, newest first (by commit time, then by ancestry). Empty for a fresh
  // repository. In an application's repository: only the commits that changed document_path,
  // in history order from HEAD (children before parents, whatever their recorded times).
  Result<std::vector<CommitInfo>> Log();
  // nullopt for a repository without commits.
  Result<std::optional<std::string>> Head();
  // The newest snapshot: HEAD in rebound's own repository, the newest commit that changed
  // document_path in an application's; nullopt when there is none.
  Result<std::optional<std::string>> NewestSnapshot();
  // `revision`: a full or abbreviated id, or a tag name.
  Result<std::string> ResolveCommit(const std::string& revision);
  Result<std::string> ReadFile(const std::string& revision, const std::string& file_path);
  // Size in bytes of `file_path` at the commit `revision`.
  Result<int64_t> FileSize(const std::string& revision, const std::string& file_path);
  Status Tag(const std::string& revision, const std::string& name);
  // The snapshot with the latest recorded time at or before `time` (ties: the newer in
  // history); not_found when there is none. With a clock that was stepped back this need not
  // be the newest in history among those at or before `time`.
  Result<CommitInfo> FindAtOrBefore(WallTime time);
  // Pushes HEAD's branch and every tag to the repository at `url` (e.g. file:///backup/s.git,
  // which must exist: `git init --bare`). Not forced: a remote that diverged is a conflict.
  // Transport failures are network Errors (retryable); a missing remote is not_found.
  Status Push(const std::string& url);
  // Reads every object reachable from HEAD and the tags, checking each one's hash.
  Result<ObjectCheck> CheckObjects();

  // Retention (git_retention_git.cc): keeps HEAD's newest `policy.keep` snapshots and every
  // tagged one; deletes the documents (trees, blobs) of the others. Commit objects are never
  // rewritten (ids stay valid); the kept commits whose parents were pruned are listed in the
  // repository's `shallow` file, so the git CLI (log, fsck) stops there, as does Log().
  // The commit objects of pruned snapshots (~200 bytes each) stay, because libgit2 1.5 does
  // not honour `shallow` when it walks history to push. docs/operations.md has the details.
  // Refused (validation) in an application's repository: its history is never rewritten.
  Result<PruneResult> Prune(const RetentionPolicy& policy);

  // Remotes (git_remote_git.cc). Lists the remote's refs (no objects are transferred) and
  // compares its copy of HEAD's branch with HEAD.
  Result<RemoteComparison> CompareWithRemote(const std::string& url);
  // A new repository at `path` (which must not hold one) with every branch and tag of the
  // remote at `url`, HEAD on the branch the remote's HEAD names (or its only branch).
  static Result<std::unique_ptr<GitStore>> CloneFrom(const std::string& url,
                                                     const std::string& path);

  // Repair (git_repair_git.cc): moves damaged loose objects, and packs holding a damaged
  // object, to PATH/quarantine/, then copies every object reachable from HEAD and the tags
  // that is missing back from a fresh fetch of `url`; repeats until CheckObjects() passes
  // or nothing more can be fetched. REQUIRES: the only writer (the data directory's lock).
  // Refused (validation) in an application's repository: git's own tools repair it.
  Result<RepairResult> RepairFrom(const std::string& url);

 private:
  GitStore(std::string path, git_repository* repo) : path_(std::move(path)), repo_(repo) {}

  // git_application_git.cc: an application's repository.
  static Result<std::unique_ptr<GitStore>> OpenApplication(const std::string& path,
                                                           const std::string& document_path);
  Result<std::string> CommitInWorkTreeLocked(const std::string& content,
                                             const std::string& message, WallTime time,
                                             const std::function<Status()>& write_alongside);
  Status PublishLocked(git_internal::IndexLock& lock, git_commit* parent,
                       const std::string& branch, const git_oid& commit_id,
                       const git_oid& blob_id, const std::string& content,
                       const std::string& message);
  Result<std::vector<CommitInfo>> ApplicationLogLocked();
  // The commits that changed document_path reachable from `from` and not from `excluding`.
  Result<int64_t> CountApplicationSnapshotsLocked(const git_oid& from, const git_oid& excluding);
  // validation Error naming `what` when this is an application's repository.
  Status RefuseForApplication(const std::string& what) const;

  Result<std::vector<CommitInfo>> LogLocked();
  Result<ObjectCheck> CheckObjectsLocked();
  // Frees and reopens repo_, so libgit2 forgets packs and objects deleted under it.
  Status ReopenLocked();

  std::string path_;
  std::string document_path_ = "recovery.json";
  bool application_ = false;
  std::mutex mutex_;
  git_repository* repo_;
  std::vector<std::string> removed_locks_;
};

}  // namespace rebound::snapshot
