// GitStore and remotes, beyond Push (git_store_git.cc): comparing with a remote without
// transferring objects, and cloning the history back after the data directory was lost
// (`rebound serve --recover-from URL`, docs/operations.md "Session wipe").

#include <git2.h>

#include <filesystem>
#include <map>

#include "base/atomic_file.h"
#include "snapshot/git_internal_git.h"
#include "snapshot/git_store.h"

namespace rebound::snapshot {

using namespace git_internal;  // NOLINT(build/namespaces): part of the libgit2 adapter

namespace {

namespace fs = std::filesystem;

struct RemoteHeads {
  std::map<std::string, git_oid> refs;  // name -> id
  std::string default_branch;           // what the remote's HEAD names; "" if unknown
};

// The refs of the remote at `url` (git ls-remote).
Result<RemoteHeads> ListRemote(git_repository* repo, const std::string& url) {
  git_remote* remote = nullptr;
  if (int rc = git_remote_create_anonymous(&remote, repo, url.c_str()); rc != 0) {
    return GitError(rc, "remote " + url);
  }
  OwnedRemote owned(remote);
  git_remote_callbacks callbacks;
  git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
  if (int rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr);
      rc != 0) {
    return GitError(rc, "connecting to " + url);
  }
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  if (int rc = git_remote_ls(&heads, &count, remote); rc != 0) {
    return GitError(rc, "listing the refs of " + url);
  }
  RemoteHeads listed;
  for (size_t i = 0; i < count; ++i) {
    listed.refs[heads[i]->name] = heads[i]->oid;
    if (std::string(heads[i]->name) == "HEAD" && heads[i]->symref_target != nullptr) {
      listed.default_branch = heads[i]->symref_target;
    }
  }
  git_remote_disconnect(remote);
  return listed;
}

// Points HEAD at the remote's default branch, else keeps it if that branch exists, else at
// the only branch there is.
Status ChooseHead(git_repository* repo, const RemoteHeads& remote, const std::string& url) {
  std::vector<std::string> branches;
  for (const auto& [name, id] : remote.refs) {
    if (name.starts_with("refs/heads/")) {
      branches.push_back(name);
    }
  }
  if (branches.empty()) {
    return NotFoundError("the remote " + url + " has no snapshots (no branch)");
  }
  std::string branch = remote.default_branch;
  if (remote.refs.count(branch) == 0) {
    auto current = HeadBranch(repo);
    branch = current.ok() && remote.refs.count(*current) > 0 ? *current : "";
  }
  if (branch.empty()) {
    if (branches.size() > 1) {
      return ValidationError("the remote " + url + " has several branches and no HEAD naming one");
    }
    branch = branches.front();
  }
  if (int rc = git_repository_set_head(repo, branch.c_str()); rc != 0) {
    return GitError(rc, "pointing HEAD at " + branch);
  }
  return OkStatus();
}

// The clone itself, into `path`, a fresh directory.
Status CloneInto(const std::string& url, const std::string& path) {
  git_repository* repo = nullptr;
  if (int rc = git_repository_init(&repo, path.c_str(), /*is_bare=*/1); rc != 0) {
    return GitError(rc, "creating " + path);
  }
  OwnedRepository owned(repo);
  auto remote = ListRemote(repo, url);
  if (!remote.ok()) {
    return remote.error();
  }
  REBOUND_RETURN_IF_ERROR(FetchAll(repo, url));
  REBOUND_RETURN_IF_ERROR(ChooseHead(repo, *remote, url));
  git_oid head;
  if (int rc = git_reference_name_to_id(&head, repo, "HEAD"); rc != 0) {
    return GitError(rc, "reading HEAD of the clone");
  }
  git_reference* pushed = nullptr;
  if (int rc = git_reference_create(&pushed, repo, kPushedRef, &head, 1, "cloned"); rc != 0) {
    return GitError(rc, "recording what the remote has");
  }
  git_reference_free(pushed);
  return OkStatus();
}

}  // namespace

namespace git_internal {

Result<std::string> HeadBranch(git_repository* repo) {
  git_reference* head = nullptr;
  if (int rc = git_reference_lookup(&head, repo, "HEAD"); rc != 0) {
    return GitError(rc, "reading HEAD");
  }
  OwnedReference owned(head);
  const char* target = git_reference_symbolic_target(head);
  if (target == nullptr) {
    return ValidationError("HEAD is detached; the snapshot repository must be on a branch");
  }
  return std::string(target);
}

Status FetchAll(git_repository* repo, const std::string& url) {
  git_remote* remote = nullptr;
  if (int rc = git_remote_create_anonymous(&remote, repo, url.c_str()); rc != 0) {
    return GitError(rc, "remote " + url);
  }
  OwnedRemote owned(remote);
  char heads[] = "+refs/heads/*:refs/heads/*";
  char tags[] = "+refs/tags/*:refs/tags/*";
  char* specs[] = {heads, tags};
  const git_strarray refspecs{specs, 2};
  git_fetch_options options;
  git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;  // the refspec already takes them
  if (int rc = git_remote_fetch(remote, &refspecs, &options, "rebound: fetch"); rc != 0) {
    return GitError(rc, "fetching from " + url);
  }
  return OkStatus();
}

}  // namespace git_internal

Result<RemoteComparison> GitStore::CompareWithRemote(const std::string& url) {
  std::lock_guard lock(mutex_);
  auto branch = HeadBranch(repo_);
  auto remote = ListRemote(repo_, url);
  if (!branch.ok() || !remote.ok()) {
    return !branch.ok() ? branch.error() : remote.error();
  }
  RemoteComparison comparison{.branch = *branch};
  git_oid local;
  const bool has_local = git_reference_name_to_id(&local, repo_, "HEAD") == 0;
  if (has_local) {
    comparison.local_head = OidHex(&local);
  }
  if (git_oid pushed; git_reference_name_to_id(&pushed, repo_, kPushedRef) == 0) {
    comparison.last_pushed = OidHex(&pushed);
  }
  const auto found = remote->refs.find(*branch);
  if (found == remote->refs.end()) {
    auto local_commits = LogLocked();
    comparison.remote_behind_by =
        local_commits.ok() ? static_cast<int64_t>(local_commits->size()) : -1;
    return comparison;
  }
  comparison.remote_head = OidHex(&found->second);
  if (!has_local) {
    comparison.remote_behind_by = -1;  // the remote has snapshots, this repository none
    return comparison;
  }
  size_t ahead = 0;
  size_t behind = 0;
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo_); rc != 0) {
    return GitError(rc, "opening the object database of " + path_);
  }
  OwnedOdb owned_odb(odb);
  if (git_odb_exists(odb, &found->second) != 1 ||
      git_graph_ahead_behind(&ahead, &behind, repo_, &local, &found->second) != 0 || behind > 0) {
    comparison.remote_behind_by = -1;
    return comparison;
  }
  comparison.remote_behind_by = static_cast<int64_t>(ahead);
  if (application_ && ahead > 0) {  // the application's own commits are not snapshots
    auto snapshots = CountApplicationSnapshotsLocked(local, found->second);
    if (!snapshots.ok()) {
      return snapshots.error();
    }
    comparison.remote_behind_by = *snapshots;
  }
  return comparison;
}

Result<std::unique_ptr<GitStore>> GitStore::CloneFrom(const std::string& url,
                                                      const std::string& path) {
  InitLibgit2Once();
  std::error_code error;
  if (fs::exists(fs::path(path) / "HEAD", error)) {
    return ConflictError(path + " already holds a snapshot repository; not overwriting it");
  }
  // Cloned beside the target, then renamed into place: a crash never leaves half a clone
  // where the next start would take it for the real history.
  const std::string staging = path + ".cloning";
  fs::remove_all(staging, error);
  fs::create_directories(fs::path(staging).parent_path(), error);
  if (Status cloned = CloneInto(url, staging); !cloned.ok()) {
    fs::remove_all(staging, error);
    return cloned.error().WithContext("cloning the snapshots from " + url);
  }
  fs::remove(path, error);  // an empty directory may be there; anything else fails the rename
  fs::rename(staging, path, error);
  if (error) {
    return ErrnoError(error.value(), "moving the clone to " + path);
  }
  REBOUND_RETURN_IF_ERROR(DefaultFileSystem().SyncDir(ParentDir(path)));
  return Open(path);
}

}  // namespace rebound::snapshot
