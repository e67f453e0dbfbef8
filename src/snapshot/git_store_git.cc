#include <git2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "snapshot/git_internal_git.h"
#include "snapshot/git_store.h"
#include "snapshot/timestamp.h"

namespace rebound::snapshot {

// This file is the adapter itself: its helpers are used unqualified.
using namespace git_internal;  // NOLINT(build/namespaces)

namespace {

Result<OwnedBlob> LookupBlob(git_repository* repo, git_commit* commit, const std::string& path) {
  git_tree* tree = nullptr;
  if (int rc = git_commit_tree(&tree, commit); rc != 0) {
    if (rc == GIT_ENOTFOUND) {  // retention keeps a pruned snapshot's commit, not its tree
      return NotFoundError("the document of snapshot " +
                           OidHex(git_commit_id(commit)).substr(0, 12) +
                           " is gone: pruned by [snapshots] keep (\"rebound snapshots\" lists "
                           "the kept ones), or lost (\"rebound verify\", \"rebound repair\")");
    }
    return GitError(rc, "reading the tree of " + OidHex(git_commit_id(commit)));
  }
  OwnedTree owned_tree(tree);
  git_tree_entry* entry = nullptr;
  if (int rc = git_tree_entry_bypath(&entry, tree, path.c_str()); rc != 0) {
    return GitError(rc, "commit " + OidHex(git_commit_id(commit)) + " has no " + path);
  }
  OwnedTreeEntry owned_entry(entry);
  git_blob* blob = nullptr;
  if (int rc = git_blob_lookup(&blob, repo, git_tree_entry_id(entry)); rc != 0) {
    return GitError(rc, "reading " + path);
  }
  return OwnedBlob(blob);
}

}  // namespace

namespace git_internal {

std::multimap<std::string, std::string> TagsByCommit(git_repository* repo) {
  const auto tags = ListTags(repo);
  std::multimap<std::string, std::string> by_commit;
  for (const auto& [name, oid] : tags) {
    auto commit = LookupCommit(repo, OidHex(&oid));
    if (commit.ok()) {
      by_commit.emplace(OidHex(git_commit_id(commit->get())), name);
    }
  }
  return by_commit;
}

}  // namespace git_internal

namespace {

class ObjectChecker {
 public:
  ObjectChecker(git_repository* repo, git_odb* odb, std::set<std::string> shallow)
      : repo_(repo), odb_(odb), shallow_(std::move(shallow)) {}

  bool Read(const git_oid* id, const std::string& what) {
    if (!seen_.insert(OidHex(id)).second) {
      return false;
    }
    ++check_.objects_checked;
    git_odb_object* object = nullptr;
    if (int rc = git_odb_read(&object, odb_, id); rc != 0) {
      check_.problems.push_back(what + " " + OidHex(id) + ": " +
                                GitError(rc, "unreadable").message());
      check_.bad_objects.push_back(OidHex(id));
      return false;
    }
    git_odb_object_free(object);
    return true;
  }

  void Commit(const git_oid* id) {
    if (!Read(id, "commit")) {
      return;
    }
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, repo_, id) != 0) {
      check_.problems.push_back("commit " + OidHex(id) + ": cannot be parsed");
      return;
    }
    OwnedCommit owned(commit);
    Tree(git_commit_tree_id(commit));
    if (shallow_.count(OidHex(id)) > 0) {
      return;  // a retention boundary: the older documents were pruned
    }
    for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
      Commit(git_commit_parent_id(commit, i));
    }
  }

  void Tree(const git_oid* id) {
    if (!Read(id, "tree")) {
      return;
    }
    git_tree* tree = nullptr;
    if (git_tree_lookup(&tree, repo_, id) != 0) {
      check_.problems.push_back("tree " + OidHex(id) + ": cannot be parsed");
      return;
    }
    OwnedTree owned(tree);
    for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
      const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
      if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
        Tree(git_tree_entry_id(entry));
      } else {
        Read(git_tree_entry_id(entry), std::string("blob ") + git_tree_entry_name(entry));
      }
    }
  }

  ObjectCheck& result() { return check_; }

 private:
  git_repository* repo_;
  git_odb* odb_;
  std::set<std::string> shallow_;
  std::set<std::string> seen_;
  ObjectCheck check_;
};

}  // namespace

Result<CommitInfo> git_internal::ReadCommitInfo(
    git_repository* repo, const git_oid& id, const std::multimap<std::string, std::string>& tags) {
  git_commit* commit = nullptr;
  if (int rc = git_commit_lookup(&commit, repo, &id); rc != 0) {
    return GitError(rc, "reading commit " + OidHex(&id));
  }
  OwnedCommit owned(commit);
  CommitInfo info{.id = OidHex(&id), .time_s = git_commit_time(commit)};
  const char* summary = git_commit_summary(commit);
  info.message = summary != nullptr ? summary : "";
  for (auto [it, end] = tags.equal_range(info.id); it != end; ++it) {
    info.tags.push_back(it->second);
  }
  return info;
}

namespace {

void AppendParents(git_repository* repo, const git_oid& id, std::vector<git_oid>& queue) {
  git_commit* commit = nullptr;
  if (git_commit_lookup(&commit, repo, &id) != 0) {
    return;
  }
  OwnedCommit owned(commit);
  for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
    queue.push_back(*git_commit_parent_id(commit, i));
  }
}

}  // namespace

namespace {

// The lock files under a bare repository's HEAD, packed-refs and refs/.
std::vector<std::string> RemoveStaleLocks(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<std::string> removed;
  std::vector<fs::path> candidates = {fs::path(path) / "HEAD.lock",
                                      fs::path(path) / "packed-refs.lock"};
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(fs::path(path) / "refs", error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->path().extension() == ".lock") {
      candidates.push_back(it->path());
    }
  }
  for (const fs::path& candidate : candidates) {
    if (fs::remove(candidate, error)) {
      removed.push_back(candidate.string());
    }
  }
  return removed;
}

}  // namespace

Status GitStore::CheckLocation(const std::string& path, const GitStoreOptions& options) {
  std::error_code error;
  if (!options.document_path.empty()) {
    REBOUND_RETURN_IF_ERROR(CheckDocumentPath(options.document_path));
    if (!std::filesystem::is_directory(path, error)) {
      return NotFoundError(NoApplicationRepositoryMessage(path));
    }
    return OkStatus();
  }
  if (std::filesystem::exists(path + "/.git", error)) {
    // Not turned into a bare repository inside someone's work tree.
    return ValidationError(path + " is a git work tree (an application's repository): set "
                           "[snapshots] document_path (e.g. \"config/recovery.json\") to commit "
                           "the snapshots into it, or choose another [snapshots] path");
  }
  return OkStatus();
}

Result<std::unique_ptr<GitStore>> GitStore::Open(const std::string& path, GitStoreOptions options) {
  REBOUND_RETURN_IF_ERROR(CheckLocation(path, options));
  InitLibgit2Once();
  if (!options.document_path.empty()) {
    return OpenApplication(path, options.document_path);
  }
  std::vector<std::string> removed;
  if (options.remove_stale_locks) {
    removed = RemoveStaleLocks(path);
  }
  git_repository* repo = nullptr;
  int rc = git_repository_open_bare(&repo, path.c_str());
  if (rc == GIT_ENOTFOUND) {
    rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1);
  }
  if (rc != 0) {
    return GitError(rc, "opening the snapshot repository " + path);
  }
  std::unique_ptr<GitStore> store(new GitStore(path, repo));
  store->removed_locks_ = std::move(removed);
  return store;
}

GitStore::~GitStore() { git_repository_free(repo_); }

Status GitStore::ReopenLocked() {
  git_repository* reopened = nullptr;
  const int rc = application_ ? git_repository_open(&reopened, path_.c_str())
                              : git_repository_open_bare(&reopened, path_.c_str());
  if (rc != 0) {
    return GitError(rc, "reopening the snapshot repository " + path_);
  }
  git_repository_free(repo_);
  repo_ = reopened;
  return OkStatus();
}

Result<std::optional<std::string>> GitStore::Head() {
  std::lock_guard lock(mutex_);
  if (git_repository_head_unborn(repo_) == 1) {
    return std::optional<std::string>();
  }
  git_oid id;
  if (int rc = git_reference_name_to_id(&id, repo_, "HEAD"); rc != 0) {
    return GitError(rc, "reading HEAD of " + path_);
  }
  return std::optional<std::string>(OidHex(&id));
}

Result<std::optional<std::string>> GitStore::NewestSnapshot() {
  if (!application_) {
    return Head();
  }
  std::lock_guard lock(mutex_);
  auto commits = ApplicationLogLocked();
  if (!commits.ok()) {
    return commits.error();
  }
  return commits->empty() ? std::optional<std::string>()
                          : std::optional<std::string>(commits->front().id);
}

bool GitStore::FlushCovers(const std::string& directory) {
  if (application_) {
    return false;  // libgit2 syncs each object of an application's commit: no shared flush
  }
  std::string objects;
  {
    std::lock_guard lock(mutex_);  // repo_ is replaced by a reopen (repair)
    objects = std::string(git_repository_path(repo_)) + "objects";
  }
  struct stat ours {};
  struct stat theirs {};
  return ::stat(objects.c_str(), &ours) == 0 &&
         ::stat(directory.c_str(), &theirs) == 0 && ours.st_dev == theirs.st_dev;
}

Result<std::string> GitStore::CommitFile(const std::string& file_path, const std::string& content,
                                         const std::string& message, WallTime time,
                                         const std::function<Status()>& write_alongside) {
  if (application_) {
    if (file_path != document_path_) {
      return ValidationError("this application repository holds only " + document_path_ +
                             ", not \"" + file_path + "\"");
    }
    std::lock_guard lock(mutex_);
    return CommitInWorkTreeLocked(content, message, time, write_alongside);
  }
  if (file_path.empty() || file_path.find_first_of(std::string("/\0", 2)) != std::string::npos) {
    return ValidationError("a snapshot file name must be one path component, not \"" + file_path +
                           "\"");
  }
  std::lock_guard lock(mutex_);
  auto branch = HeadBranch(repo_);
  if (!branch.ok()) {
    return branch.error();
  }
  std::optional<git_oid> parent;
  if (git_repository_head_unborn(repo_) != 1) {
    git_oid head;
    if (int rc = git_reference_name_to_id(&head, repo_, "HEAD"); rc != 0) {
      return GitError(rc, "reading HEAD of " + path_);
    }
    parent = head;
  }
  const SnapshotObjects objects = BuildSnapshotObjects(file_path, content, message, time, parent);
  // Objects durable first (one flush for the three), then the ref that names them: a crash
  // never leaves the branch pointing at a missing object.
  const std::string objects_dir = path_ + "/objects";
  auto flush = FileSystemFlush::Open(objects_dir);  // before the writes: see FileSystemFlush
  if (!flush.ok()) {
    return flush.error();
  }
  if (write_alongside) {
    REBOUND_RETURN_IF_ERROR(write_alongside());
  }
  std::vector<std::string> written;
  Status made = OkStatus();
  for (const auto& [id, type, raw] : objects.all) {
    auto path = WriteLooseObjectUnsynced(objects_dir, id, type, raw);
    if (!path.ok()) {
      made = path.error();
      break;
    }
    if (!path->empty()) {
      written.push_back(std::move(*path));
    }
  }
  if (made.ok()) {
    made = flush->Flush();
  }
  if (!made.ok()) {
    // Not left behind unsynced: a later capture of the same bytes would find them "already
    // there" and move the branch to objects whose write may have failed.
    for (const std::string& path : written) {
      ::unlink(path.c_str());
    }
    return made.error();
  }
  git_reference* ref = nullptr;
  const git_oid& commit_id = std::get<0>(objects.all.back());
  const std::string log = "snapshot: " + message;
  const int rc = parent ? git_reference_create_matching(&ref, repo_, branch->c_str(), &commit_id,
                                                        /*force=*/1, &*parent, log.c_str())
                        : git_reference_create(&ref, repo_, branch->c_str(), &commit_id,
                                               /*force=*/0, log.c_str());
  if (rc != 0) {
    return GitError(rc, "moving " + *branch + " to the new snapshot");
  }
  git_reference_free(ref);
  return OidHex(&commit_id);
}

Result<std::vector<CommitInfo>> GitStore::Log() {
  std::lock_guard lock(mutex_);
  return LogLocked();
}

Result<std::vector<CommitInfo>> GitStore::LogLocked() {
  if (application_) {
    return ApplicationLogLocked();
  }
  std::vector<CommitInfo> commits;
  if (git_repository_head_unborn(repo_) == 1) {
    return commits;
  }
  // Not git_revwalk: libgit2 1.5 ignores the `shallow` file that retention writes, and would
  // list the snapshots whose documents were pruned. Breadth first from HEAD, then the tags.
  auto head = LookupCommit(repo_, "HEAD");
  if (!head.ok()) {
    return head.error();
  }
  std::vector<git_oid> roots = {*git_commit_id(head->get())};
  for (const auto& [name, oid] : ListTags(repo_)) {
    if (auto tagged = LookupCommit(repo_, OidHex(&oid)); tagged.ok()) {
      roots.push_back(*git_commit_id(tagged->get()));
    }
  }
  const std::set<std::string> shallow = ReadShallow(path_);
  const auto tags = TagsByCommit(repo_);
  std::set<std::string> seen;
  // HEAD's history first, then what only tags reach: children always before their parents.
  for (const git_oid& root : roots) {
    std::vector<git_oid> queue = {root};
    for (size_t next = 0; next < queue.size(); ++next) {
      const git_oid id = queue[next];
      if (!seen.insert(OidHex(&id)).second) {
        continue;
      }
      auto info = ReadCommitInfo(repo_, id, tags);
      if (!info.ok()) {
        return info.error();
      }
      if (shallow.count(info->id) == 0) {
        AppendParents(repo_, id, queue);
      }
      commits.push_back(std::move(*info));
    }
  }
  // Newest first; within one second (git's resolution) the walk's order puts children first.
  std::stable_sort(commits.begin(), commits.end(),
                   [](const CommitInfo& a, const CommitInfo& b) { return a.time_s > b.time_s; });
  return commits;
}

Result<std::string> GitStore::ResolveCommit(const std::string& revision) {
  std::lock_guard lock(mutex_);
  auto commit = LookupCommit(repo_, revision);
  if (!commit.ok()) {
    return commit.error();
  }
  return OidHex(git_commit_id(commit->get()));
}

Result<std::string> GitStore::ReadFile(const std::string& revision, const std::string& file_path) {
  std::lock_guard lock(mutex_);
  auto commit = LookupCommit(repo_, revision);
  if (!commit.ok()) {
    return commit.error();
  }
  auto blob = LookupBlob(repo_, commit->get(), file_path);
  if (!blob.ok()) {
    return blob.error();
  }
  const auto* data = static_cast<const char*>(git_blob_rawcontent(blob->get()));
  return std::string(data, static_cast<size_t>(git_blob_rawsize(blob->get())));
}

Result<int64_t> GitStore::FileSize(const std::string& revision, const std::string& file_path) {
  std::lock_guard lock(mutex_);
  auto commit = LookupCommit(repo_, revision);
  if (!commit.ok()) {
    return commit.error();
  }
  auto blob = LookupBlob(repo_, commit->get(), file_path);
  if (!blob.ok()) {
    return blob.error();
  }
  return static_cast<int64_t>(git_blob_rawsize(blob->get()));
}

Status GitStore::Tag(const std::string& revision, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto commit = LookupCommit(repo_, revision);
  if (!commit.ok()) {
    return commit.error();
  }
  git_tree* tree = nullptr;
  if (git_commit_tree(&tree, commit->get()) != 0) {  // a pruned snapshot cannot be kept again
    return NotFoundError("snapshot " + revision +
                         " was pruned ([snapshots] keep): its document "
                         "is gone, so it cannot be tagged");
  }
  git_tree_free(tree);
  git_oid tag_id;
  const auto* target = reinterpret_cast<const git_object*>(commit->get());
  if (int rc = git_tag_create_lightweight(&tag_id, repo_, name.c_str(), target, /*force=*/0);
      rc != 0) {
    if (rc == GIT_EEXISTS) {
      return ConflictError("tag \"" + name + "\" already exists; choose another name");
    }
    return GitError(rc, "tag \"" + name + "\"");
  }
  return OkStatus();
}

Result<CommitInfo> GitStore::FindAtOrBefore(WallTime time) {
  std::lock_guard lock(mutex_);
  auto commits = LogLocked();
  if (!commits.ok()) {
    return commits.error();
  }
  const int64_t limit_s =
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  // The latest recorded time at or before `time`, ties to the newer in history. An
  // application's Log is in history order (a clock stepped back makes its times non-monotone);
  // rebound's own is already in this order.
  std::stable_sort(commits->begin(), commits->end(),
                   [](const CommitInfo& a, const CommitInfo& b) { return a.time_s > b.time_s; });
  for (CommitInfo& commit : *commits) {
    if (commit.time_s <= limit_s) {
      return std::move(commit);
    }
  }
  if (!commits->empty() && !ReadShallow(path_).empty()) {
    const CommitInfo& oldest = commits->back();
    return NotFoundError("no kept snapshot at or before that time: the oldest kept is " +
                         oldest.id.substr(0, 12) + " at " + FormatUtcMillis(oldest.time_s * 1000) +
                         "; older snapshots were pruned ([snapshots] keep)");
  }
  return NotFoundError("no snapshot was taken at or before that time (" +
                       std::to_string(commits->size()) + " snapshots in " + path_ + ")");
}

namespace {

// Records the first reference the remote refused (push_update_reference callback).
int OnPushUpdate(const char* reference, const char* status, void* payload) {
  auto& refused = *static_cast<std::string*>(payload);
  if (status != nullptr && refused.empty()) {
    refused = std::string(reference) + ": " + status;
  }
  return 0;
}

// HEAD's branch and every tag, as push refspecs "refs/x:refs/x".
Result<std::vector<std::string>> PushRefspecs(git_repository* repo) {
  git_reference* head = nullptr;
  if (int rc = git_repository_head(&head, repo); rc != 0) {
    return GitError(rc, "nothing to push: no snapshot yet");
  }
  const std::string branch = git_reference_name(head);
  git_reference_free(head);
  std::vector<std::string> refspecs = {branch + ":" + branch};
  for (const auto& [name, oid] : ListTags(repo)) {
    refspecs.push_back("refs/tags/" + name + ":refs/tags/" + name);
  }
  return refspecs;
}

// Points kPushedRef at HEAD, which the remote now has: retention keeps what is newer.
Status RecordPushed(git_repository* repo, const std::string& url) {
  git_oid head;
  if (int rc = git_reference_name_to_id(&head, repo, "HEAD"); rc != 0) {
    return GitError(rc, "reading HEAD after pushing to " + url);
  }
  git_reference* ref = nullptr;
  if (int rc = git_reference_create(&ref, repo, kPushedRef, &head, /*force=*/1,
                                    ("pushed to " + url).c_str());
      rc != 0) {
    return GitError(rc, "recording the push to " + url);
  }
  git_reference_free(ref);
  return OkStatus();
}

}  // namespace

Status GitStore::Push(const std::string& url) {
  std::lock_guard lock(mutex_);
  auto refspecs = PushRefspecs(repo_);
  if (!refspecs.ok()) {
    return refspecs.error();
  }
  git_remote* remote = nullptr;
  if (int rc = git_remote_create_anonymous(&remote, repo_, url.c_str()); rc != 0) {
    return GitError(rc, "remote " + url);
  }
  Owned<git_remote, git_remote_free> owned(remote);
  std::vector<char*> names;
  for (std::string& refspec : *refspecs) {
    names.push_back(refspec.data());
  }
  const git_strarray array{names.data(), names.size()};
  git_push_options options;
  git_push_options_init(&options, GIT_PUSH_OPTIONS_VERSION);
  std::string refused;
  options.callbacks.push_update_reference = OnPushUpdate;
  options.callbacks.payload = &refused;
  if (int rc = git_remote_push(remote, &array, &options); rc != 0) {
    return GitError(rc, "pushing to " + url);
  }
  if (!refused.empty()) {
    return ConflictError("pushing to " + url + ": the remote refused " + refused +
                         " (it has snapshots this repository does not; fetch or use another "
                         "remote)");
  }
  return RecordPushed(repo_, url);
}

Result<ObjectCheck> GitStore::CheckObjects() {
  std::lock_guard lock(mutex_);
  return CheckObjectsLocked();
}

Result<ObjectCheck> GitStore::CheckObjectsLocked() {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo_); rc != 0) {
    return GitError(rc, "opening the object database of " + path_);
  }
  OwnedOdb owned(odb);
  ObjectChecker checker(repo_, odb, ReadShallow(path_));
  if (git_repository_head_unborn(repo_) != 1) {
    git_oid head;
    if (int rc = git_reference_name_to_id(&head, repo_, "HEAD"); rc != 0) {
      checker.result().problems.push_back(GitError(rc, "HEAD").message());
    } else {
      checker.Commit(&head);
    }
  }
  for (const auto& [name, oid] : ListTags(repo_)) {
    checker.Commit(&oid);
  }
  return std::move(checker.result());
}

}  // namespace rebound::snapshot
