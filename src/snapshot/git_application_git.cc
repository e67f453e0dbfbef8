// GitStore in an application's own repository (GitStoreOptions::document_path): seed 000's
// config/recovery.json, committed where the application's code lives. The rules, because the
// repository is not rebound's (docs/operations.md):
// - a snapshot is a commit on the current branch whose tree is its parent's with only
//   document_path replaced; no other file, branch or index entry is touched;
// - the work tree file is replaced atomically and its index entry updated, so `git status`
//   stays clean for it while the user's staged changes to other paths stay staged;
// - the branch moves last, compare-and-swap against the parent the commit was built on, so a
//   commit the user made meanwhile is never overwritten (a conflict instead, and the work tree
//   file and the index put back);
// - git's index.lock is held from the checks to the branch's move, so no git command changes
//   the index meanwhile (a user's git add is refused by git, not silently undone);
// - a detached HEAD, an unborn branch, a merge/rebase in progress, unresolved conflicts, a git
//   command holding a lock, local changes to the document, a `filter` attribute on it, or a
//   symbolic link on its way refuse the capture, with nothing written, rather than guessing.

#include <fcntl.h>
#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string_view>

#include "snapshot/git_internal_git.h"
#include "snapshot/git_store.h"

namespace rebound::snapshot {

using namespace git_internal;  // NOLINT(build/namespaces)

Status CheckDocumentPath(const std::string& document_path) {
  const auto bad = [&](const std::string& why) {
    return ValidationError("document path \"" + document_path + "\" " + why +
                           "; e.g. \"config/recovery.json\" (relative to the top of the work "
                           "tree)");
  };
  if (document_path.empty() || document_path.front() == '/' || document_path.back() == '/') {
    return bad("must be a relative path to a file");
  }
  if (document_path.find('\\') != std::string::npos ||
      document_path.find('\0') != std::string::npos) {
    return bad("must not contain a backslash or a NUL");
  }
  size_t start = 0;
  while (start <= document_path.size()) {
    const size_t slash = std::min(document_path.find('/', start), document_path.size());
    const std::string part = document_path.substr(start, slash - start);
    std::string lower = part;
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (part.empty() || part == "." || part == "..") {
      return bad("must not have empty, \".\" or \"..\" components");
    }
    if (lower == ".git") {
      return bad("must not be inside .git");
    }
    start = slash + 1;
  }
  return OkStatus();
}

Status GitStore::RefuseForApplication(const std::string& what) const {
  if (!application_) {
    return OkStatus();
  }
  return ValidationError(what + " is refused in an application's repository (" + path_ +
                         "): rebound never rewrites or deletes the application's history; "
                         "use git's own tools there");
}

Result<std::unique_ptr<GitStore>> GitStore::OpenApplication(const std::string& path,
                                                            const std::string& document_path) {
  REBOUND_RETURN_IF_ERROR(CheckDocumentPath(document_path));
  git_repository* repo = nullptr;
  // NO_SEARCH: exactly this directory, never a repository found in a parent directory.
  if (int rc = git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH,
                                       nullptr);
      rc != 0) {
    if (rc == GIT_ENOTFOUND) {
      return NotFoundError(NoApplicationRepositoryMessage(path));
    }
    return GitError(rc, "opening the application repository " + path);
  }
  OwnedRepository owned(repo);
  if (git_repository_is_bare(repo) == 1) {
    return ValidationError(path + " is a bare repository: [snapshots] document_path needs the "
                           "application's repository with a work tree (or drop document_path "
                           "to use a bare repository of rebound's own)");
  }
  std::unique_ptr<GitStore> store(new GitStore(path, owned.release()));
  store->document_path_ = document_path;
  store->application_ = true;
  return store;
}

namespace {

// Why the repository cannot take a snapshot commit now, or ok.
Status CheckCommittable(git_repository* repo, const std::string& path) {
  const int state = git_repository_state(repo);
  if (state != GIT_REPOSITORY_STATE_NONE) {
    return ConflictError("a merge, rebase, cherry-pick or similar is in progress in " + path +
                         " (git status says which): finish or abort it, then capture again");
  }
  if (git_repository_head_detached(repo) == 1) {
    return ValidationError("HEAD of " + path +
                           " is detached: check out a branch (git switch NAME) for rebound to "
                           "commit snapshots on");
  }
  if (git_repository_head_unborn(repo) == 1) {
    return ValidationError("the current branch of " + path +
                           " has no commit yet: make the application's first commit, then "
                           "capture");
  }
  git_index* index = nullptr;
  if (int rc = git_repository_index(&index, repo); rc != 0) {
    return GitError(rc, "reading the index of " + path);
  }
  Owned<git_index, git_index_free> owned(index);
  if (git_index_read(index, /*force=*/1) == 0 && git_index_has_conflicts(index) == 1) {
    return ConflictError("the index of " + path +
                         " has unresolved conflicts: resolve them, then capture again");
  }
  return OkStatus();
}

// The document must be as HEAD has it, in the index and in the work tree: a capture replaces
// both, which would lose an edit made to it by hand (staged or not), or a file the user put
// there before the first capture.
Status CheckDocumentUnchanged(git_repository* repo, const std::string& path,
                              const std::string& document_path) {
  unsigned int flags = 0;
  const int rc = git_status_file(&flags, repo, document_path.c_str());
  if (rc == GIT_ENOTFOUND) {
    return OkStatus();  // in neither HEAD, the index nor the work tree: the first capture
  }
  if (rc != 0) {
    return GitError(rc, "reading the status of " + document_path + " in " + path);
  }
  if (flags == GIT_STATUS_CURRENT) {
    return OkStatus();
  }
  return ConflictError(document_path + " has local changes: commit or discard them (git -C " +
                       path + " status " + document_path + " shows them), then capture again");
}

// A `filter` attribute (git-lfs, git-crypt, any clean/smudge driver) means git stores other
// bytes than the file's. rebound writes the blob and the work tree file itself, without the
// filter: it would commit plaintext where encryption was configured. Refused, not half-done.
Status CheckNoFilter(git_repository* repo, const std::string& path,
                     const std::string& document_path) {
  const char* value = nullptr;
  if (int rc = git_attr_get(&value, repo, GIT_ATTR_CHECK_FILE_THEN_INDEX, document_path.c_str(),
                            "filter");
      rc != 0) {
    return GitError(rc, "reading the git attributes of " + document_path + " in " + path);
  }
  const git_attr_value_t kind = git_attr_value(value);
  if (kind == GIT_ATTR_VALUE_UNSPECIFIED || kind == GIT_ATTR_VALUE_FALSE) {
    return OkStatus();
  }
  const std::string filter = kind == GIT_ATTR_VALUE_STRING ? value : "(set)";
  return ValidationError(
      document_path + " has the git attribute filter=" + filter + " in " + path +
      " (.gitattributes): rebound writes the document without running filters, so it would "
      "commit it unfiltered (in plaintext where git-crypt or LFS is configured); choose a "
      "[snapshots] document_path without a filter, or exempt it (a line \"" + document_path +
      " -filter\" in .gitattributes)");
}

// The document must be a regular file in HEAD (or absent), and in the work tree, reached
// through real directories: a committed symbolic link would be silently replaced, and one in
// the work tree (config -> /etc/app) would have rebound write outside the repository.
Status CheckDocumentIsAFile(git_repository* repo, git_commit* head, const std::string& path,
                            const std::string& document_path) {
  git_tree* tree = nullptr;
  if (int rc = git_commit_tree(&tree, head); rc != 0) {
    return GitError(rc, "reading the tree of HEAD of " + path);
  }
  OwnedTree owned_tree(tree);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, document_path.c_str()) == 0) {
    OwnedTreeEntry owned_entry(entry);
    const git_filemode_t mode = git_tree_entry_filemode(entry);
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
      return ValidationError(document_path + " is committed in " + path + " as " +
                             (mode == GIT_FILEMODE_LINK ? "a symbolic link" : "not a file") +
                             ": rebound would replace it with a file; choose another [snapshots] "
                             "document_path");
    }
  }
  return CheckDocumentLocation(git_repository_workdir(repo), document_path,
                               /*create_directories=*/false);
}

// The new snapshot commit: the parent's tree with `document_path` -> `content`.
Result<git_oid> CreateCommit(git_repository* repo, git_commit* parent,
                             const std::string& document_path, const std::string& content,
                             const std::string& message, WallTime time, git_oid& blob_id) {
  if (int rc = git_blob_create_from_buffer(&blob_id, repo, content.data(), content.size());
      rc != 0) {
    return GitError(rc, "writing the document blob");
  }
  git_tree* base = nullptr;
  if (int rc = git_commit_tree(&base, parent); rc != 0) {
    return GitError(rc, "reading the tree of HEAD");
  }
  OwnedTree owned_base(base);
  git_tree_update update{};
  update.action = GIT_TREE_UPDATE_UPSERT;
  update.id = blob_id;
  update.filemode = GIT_FILEMODE_BLOB;
  update.path = document_path.c_str();
  git_oid tree_id;
  if (int rc = git_tree_create_updated(&tree_id, repo, base, 1, &update); rc != 0) {
    return GitError(rc, "replacing " + document_path + " in HEAD's tree");
  }
  git_tree* tree = nullptr;
  if (int rc = git_tree_lookup(&tree, repo, &tree_id); rc != 0) {
    return GitError(rc, "reading the new tree");
  }
  OwnedTree owned_tree(tree);
  git_signature* signature = nullptr;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch());
  if (int rc = git_signature_new(&signature, "rebound", "rebound@localhost", seconds.count(), 0);
      rc != 0) {
    return GitError(rc, "making the commit's signature");
  }
  OwnedSignature owned_signature(signature);
  const git_commit* parents[] = {parent};
  git_oid commit_id;
  if (int rc = git_commit_create(&commit_id, repo, /*update_ref=*/nullptr, signature, signature,
                                 nullptr, message.c_str(), tree, 1, parents);
      rc != 0) {
    return GitError(rc, "writing the snapshot commit");
  }
  return commit_id;
}

// A lock file of the branch or of HEAD means a git command is updating them (a commit, a
// checkout): refused before anything is written, rather than failing at the branch's move.
Status CheckNoRefLocks(git_repository* repo, const std::string& path, const std::string& branch) {
  const std::string common = git_repository_commondir(repo);
  for (const std::string& lock :
       {common + branch + ".lock", std::string(git_repository_path(repo)) + "HEAD.lock"}) {
    if (std::error_code error; std::filesystem::exists(lock, error)) {
      return ConflictError(GitCommandRunning(path, lock));
    }
  }
  return OkStatus();
}

// Moves `branch` from `parent_id` to `commit_id`, compare-and-swap.
Status MoveBranch(git_repository* repo, const std::string& path, const std::string& branch,
                  const git_oid& commit_id, const git_oid& parent_id, const std::string& message) {
  git_reference* moved = nullptr;
  const std::string log = "snapshot: " + message;
  const int rc = git_reference_create_matching(&moved, repo, branch.c_str(), &commit_id,
                                               /*force=*/1, &parent_id, log.c_str());
  if (rc == GIT_EMODIFIED) {
    return ConflictError(branch + " of " + path +
                         " moved while the snapshot was being committed (a commit made "
                         "meanwhile); nothing was committed: capture again");
  }
  if (rc == GIT_ELOCKED) {
    return ConflictError(GitCommandRunning(path, branch + ".lock"));
  }
  if (rc != 0) {
    return GitError(rc, "moving " + branch + " of " + path + " to the snapshot");
  }
  git_reference_free(moved);
  return OkStatus();
}

// The work tree file back as `parent` has it (absent if it has none): CheckDocumentUnchanged
// made sure that is what the user had.
Status RestoreWorkTreeFile(git_repository* repo, git_commit* parent,
                           const std::string& document_path, const std::string& file) {
  git_tree_entry* entry = nullptr;
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, parent) == 0) {
    OwnedTree owned_tree(tree);
    git_tree_entry_bypath(&entry, tree, document_path.c_str());
  }
  if (entry == nullptr) {
    return ::unlink(file.c_str()) == 0 || errno == ENOENT ? OkStatus()
                                                          : ErrnoError(errno, "removing " + file);
  }
  OwnedTreeEntry owned_entry(entry);
  git_blob* blob = nullptr;
  if (int rc = git_blob_lookup(&blob, repo, git_tree_entry_id(entry)); rc != 0) {
    return GitError(rc, "reading HEAD's " + document_path);
  }
  OwnedBlob owned_blob(blob);
  const std::string_view content(static_cast<const char*>(git_blob_rawcontent(blob)),
                                 static_cast<size_t>(git_blob_rawsize(blob)));
  auto restored = ReplaceWorkTreeFile(git_repository_workdir(repo), document_path, content);
  return restored.ok() ? OkStatus() : Status(restored.error());
}

}  // namespace

Result<std::string> GitStore::CommitInWorkTreeLocked(
    const std::string& content, const std::string& message, WallTime time,
    const std::function<Status()>& write_alongside) {
  // Held to the end: the checks, the index and the branch's move see no git command between.
  auto lock = IndexLock::Acquire(std::string(git_repository_path(repo_)) + "index", path_);
  if (!lock.ok()) {
    return lock.error();
  }
  REBOUND_RETURN_IF_ERROR(CheckCommittable(repo_, path_));
  REBOUND_RETURN_IF_ERROR(CheckNoFilter(repo_, path_, document_path_));
  REBOUND_RETURN_IF_ERROR(CheckDocumentUnchanged(repo_, path_, document_path_));
  git_reference* head = nullptr;
  if (int rc = git_repository_head(&head, repo_); rc != 0) {
    return GitError(rc, "reading HEAD of " + path_);
  }
  OwnedReference owned_head(head);
  const std::string branch = git_reference_name(head);
  REBOUND_RETURN_IF_ERROR(CheckNoRefLocks(repo_, path_, branch));
  auto parent = LookupCommit(repo_, branch);
  if (!parent.ok()) {
    return parent.error();
  }
  REBOUND_RETURN_IF_ERROR(CheckDocumentIsAFile(repo_, parent->get(), path_, document_path_));
  if (write_alongside) {  // libgit2 syncs each object itself here: no shared flush to join
    REBOUND_RETURN_IF_ERROR(write_alongside());
  }
  git_oid blob_id;
  auto commit_id = CreateCommit(repo_, parent->get(), document_path_, content, message, time,
                                blob_id);
  if (!commit_id.ok()) {
    return commit_id.error().WithContext(path_);
  }
  REBOUND_RETURN_IF_ERROR(
      PublishLocked(*lock, parent->get(), branch, *commit_id, blob_id, content, message));
  return OidHex(&*commit_id);
}

// Work tree and index before the branch: a crash in between leaves the new document staged
// (and index.lock behind), never an index that would silently revert it on the user's next
// commit. When the branch cannot move, both are put back as they were.
Status GitStore::PublishLocked(git_internal::IndexLock& lock, git_commit* parent,
                               const std::string& branch, const git_oid& commit_id,
                               const git_oid& blob_id, const std::string& content,
                               const std::string& message) {
  auto previous_index = lock.ReadIndex();
  if (!previous_index.ok()) {
    return previous_index.error();
  }
  const std::string file = std::string(git_repository_workdir(repo_)) + document_path_;
  auto st = ReplaceWorkTreeFile(git_repository_workdir(repo_), document_path_, content);
  if (!st.ok()) {
    return st.error();  // the rename is its last step: the file is as it was
  }
  Status published =
      lock.InstallWithEntry(*previous_index, IndexEntryFor(document_path_, blob_id, *st));
  const bool index_installed = published.ok();
  if (published.ok()) {
    published = MoveBranch(repo_, path_, branch, commit_id, *git_commit_id(parent), message);
  }
  if (published.ok()) {
    return OkStatus();
  }
  Status undone = RestoreWorkTreeFile(repo_, parent, document_path_, file);
  if (undone.ok() && index_installed) {
    undone = lock.Restore(*previous_index);
  }
  if (!undone.ok()) {
    return Error(published.error().category(),
                 published.error().message() + "; putting " + document_path_ +
                     " back failed too (" + undone.error().message() +
                     "): git status shows what is left");
  }
  return published;
}

namespace {

// The id of `path` in `commit`'s tree, or nullopt when it has none.
std::optional<git_oid> EntryAt(git_commit* commit, const std::string& path) {
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, commit) != 0) {
    return std::nullopt;
  }
  OwnedTree owned(tree);
  git_tree_entry* entry = nullptr;
  if (git_tree_entry_bypath(&entry, tree, path.c_str()) != 0) {
    return std::nullopt;
  }
  OwnedTreeEntry owned_entry(entry);
  return *git_tree_entry_id(entry);
}

bool SameEntry(const std::optional<git_oid>& a, const std::optional<git_oid>& b) {
  return a.has_value() == b.has_value() && (!a || git_oid_equal(&*a, &*b) == 1);
}

// True when `commit` changed `path`: it differs from every parent (git log PATH's rule, so a
// merge that only brought in a branch's snapshot is not listed twice).
bool ChangedPath(git_commit* commit, const std::string& path) {
  const std::optional<git_oid> here = EntryAt(commit, path);
  if (!here) {
    return false;
  }
  for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
    git_commit* parent = nullptr;
    if (git_commit_parent(&parent, commit, i) != 0) {
      continue;
    }
    OwnedCommit owned(parent);
    if (SameEntry(here, EntryAt(parent, path))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::vector<CommitInfo>> GitStore::ApplicationLogLocked() {
  std::vector<CommitInfo> commits;
  if (git_repository_head_unborn(repo_) == 1) {
    return commits;
  }
  git_revwalk* walk = nullptr;
  if (int rc = git_revwalk_new(&walk, repo_); rc != 0) {
    return GitError(rc, "walking the history of " + path_);
  }
  OwnedWalk owned_walk(walk);
  git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  if (int rc = git_revwalk_push_head(walk); rc != 0) {
    return GitError(rc, "walking from HEAD of " + path_);
  }
  const auto tags = TagsByCommit(repo_);
  for (git_oid id; git_revwalk_next(&id, walk) == 0;) {
    git_commit* commit = nullptr;
    if (int rc = git_commit_lookup(&commit, repo_, &id); rc != 0) {
      return GitError(rc, "reading commit " + OidHex(&id));
    }
    OwnedCommit owned(commit);
    if (!ChangedPath(commit, document_path_)) {
      continue;
    }
    auto info = ReadCommitInfo(repo_, id, tags);
    if (!info.ok()) {
      return info.error();
    }
    commits.push_back(std::move(*info));
  }
  // Walk order, not commit time: a clock stepped back gives a newer snapshot an older time,
  // and "newest" must follow history (FindAtOrBefore sorts by time itself).
  return commits;
}

Result<int64_t> GitStore::CountApplicationSnapshotsLocked(const git_oid& from,
                                                          const git_oid& excluding) {
  git_revwalk* walk = nullptr;
  if (int rc = git_revwalk_new(&walk, repo_); rc != 0) {
    return GitError(rc, "walking the history of " + path_);
  }
  OwnedWalk owned_walk(walk);
  if (int rc = git_revwalk_push(walk, &from); rc != 0) {
    return GitError(rc, "walking from " + OidHex(&from));
  }
  if (int rc = git_revwalk_hide(walk, &excluding); rc != 0) {
    return GitError(rc, "walking up to " + OidHex(&excluding));
  }
  int64_t snapshots = 0;
  for (git_oid id; git_revwalk_next(&id, walk) == 0;) {
    git_commit* commit = nullptr;
    if (int rc = git_commit_lookup(&commit, repo_, &id); rc != 0) {
      return GitError(rc, "reading commit " + OidHex(&id));
    }
    OwnedCommit owned(commit);
    snapshots += ChangedPath(commit, document_path_) ? 1 : 0;
  }
  return snapshots;
}

}  // namespace rebound::snapshot
