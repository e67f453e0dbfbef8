// GitStore::Prune: snapshot retention ([snapshots] keep). docs/operations.md "Snapshot
// retention" describes the on-disk result; the order of the steps is what makes it crash-safe:
//   1. the `shallow` file (atomically replaced) names the kept commits whose parents are
//      pruned, so from then on no reader (git CLI, Log(), CheckObjects()) descends below them;
//   2. packs that hold pruned objects are rewritten without them (new pack durable first);
//   3. loose pruned objects are unlinked.
// A crash between steps leaves unreferenced objects behind, never a reachable object missing.

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/atomic_file.h"
#include "snapshot/git_internal_git.h"
#include "snapshot/git_store.h"

namespace rebound::snapshot {

using namespace git_internal;  // NOLINT(build/namespaces): part of the libgit2 adapter

namespace {

namespace fs = std::filesystem;

// HEAD's first-parent chain, newest first, down to the first commit in `shallow` (included).
Result<std::vector<std::string>> HeadChain(git_repository* repo,
                                           const std::set<std::string>& shallow) {
  std::vector<std::string> chain;
  auto head = LookupCommit(repo, "HEAD");
  if (!head.ok()) {
    return head.error();
  }
  OwnedCommit commit = std::move(*head);
  while (true) {
    chain.push_back(OidHex(git_commit_id(commit.get())));
    if (shallow.count(chain.back()) > 0 || git_commit_parentcount(commit.get()) == 0) {
      return chain;
    }
    git_commit* parent = nullptr;
    if (int rc = git_commit_parent(&parent, commit.get(), 0); rc != 0) {
      return GitError(rc, "reading the parent of " + chain.back());
    }
    commit.reset(parent);
  }
}

// Adds `tree_id` and every tree and blob under it to `ids`.
Status CollectTree(git_repository* repo, const git_oid* tree_id, std::set<std::string>& ids) {
  if (!ids.insert(OidHex(tree_id)).second) {
    return OkStatus();
  }
  git_tree* tree = nullptr;
  if (int rc = git_tree_lookup(&tree, repo, tree_id); rc != 0) {
    return GitError(rc, "reading tree " + OidHex(tree_id));
  }
  OwnedTree owned(tree);
  for (size_t i = 0; i < git_tree_entrycount(tree); ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) {
      REBOUND_RETURN_IF_ERROR(CollectTree(repo, git_tree_entry_id(entry), ids));
    } else {
      ids.insert(OidHex(git_tree_entry_id(entry)));
    }
  }
  return OkStatus();
}

// The trees and blobs of `commits` (none for a commit whose document is already gone).
Result<std::set<std::string>> DocumentObjects(git_repository* repo,
                                              const std::set<std::string>& commits) {
  std::set<std::string> ids;
  for (const std::string& id : commits) {
    auto commit = LookupCommit(repo, id);
    if (!commit.ok()) {
      return commit.error();
    }
    git_tree* tree = nullptr;
    if (git_commit_tree(&tree, commit->get()) != 0) {
      continue;
    }
    git_tree_free(tree);
    REBOUND_RETURN_IF_ERROR(CollectTree(repo, git_commit_tree_id(commit->get()), ids));
  }
  return ids;
}

// Kept commits with a parent that is not kept: where readers must stop.
Result<std::set<std::string>> Boundaries(git_repository* repo, const std::set<std::string>& kept) {
  std::set<std::string> boundaries;
  for (const std::string& id : kept) {
    auto commit = LookupCommit(repo, id);
    if (!commit.ok()) {
      return commit.error();
    }
    for (unsigned i = 0; i < git_commit_parentcount(commit->get()); ++i) {
      if (kept.count(OidHex(git_commit_parent_id(commit->get(), i))) == 0) {
        boundaries.insert(id);
      }
    }
  }
  return boundaries;
}

Status WriteShallow(const std::string& repo_path, const std::set<std::string>& boundaries) {
  std::string text;
  for (const std::string& id : boundaries) {
    text += id + "\n";
  }
  return WriteFileAtomically(DefaultFileSystem(), repo_path + "/shallow", text, 0644);
}

// Writes the objects of `ids` as a new pack in `pack_dir` (fsynced by libgit2's indexer).
Status WritePack(git_repository* repo, const std::vector<git_oid>& ids,
                 const std::string& pack_dir) {
  if (ids.empty()) {
    return OkStatus();
  }
  git_packbuilder* builder = nullptr;
  if (int rc = git_packbuilder_new(&builder, repo); rc != 0) {
    return GitError(rc, "starting a pack");
  }
  OwnedPackBuilder owned(builder);
  for (const git_oid& id : ids) {
    if (int rc = git_packbuilder_insert(builder, &id, nullptr); rc != 0) {
      return GitError(rc, "packing " + OidHex(&id));
    }
  }
  if (int rc = git_packbuilder_write(builder, pack_dir.c_str(), 0, nullptr, nullptr); rc != 0) {
    return GitError(rc, "writing a pack into " + pack_dir);
  }
  return OkStatus();
}

// Rewrites each pack that holds any of `doomed` without them; returns how many it dropped.
Result<int64_t> RewritePacks(git_repository* repo, const std::string& repo_path,
                             const std::set<std::string>& doomed) {
  const fs::path pack_dir = fs::path(repo_path) / "objects" / "pack";
  std::error_code error;
  std::vector<fs::path> indexes;
  for (const auto& entry : fs::directory_iterator(pack_dir, error)) {
    if (entry.path().extension() == ".idx") {
      indexes.push_back(entry.path());
    }
  }
  int64_t dropped = 0;
  for (const fs::path& index : indexes) {
    auto ids = ListPack(index.string());
    if (!ids.ok()) {
      return ids.error();
    }
    std::vector<git_oid> survivors;
    for (const git_oid& id : *ids) {
      if (doomed.count(OidHex(&id)) == 0) {
        survivors.push_back(id);
      }
    }
    if (survivors.size() == ids->size()) {
      continue;
    }
    REBOUND_RETURN_IF_ERROR(WritePack(repo, survivors, pack_dir.string()));
    dropped += static_cast<int64_t>(ids->size() - survivors.size());
    fs::path stem = index;
    stem.replace_extension();
    for (const char* extension : {".idx", ".pack", ".rev", ".keep"}) {
      fs::remove(stem.string() + extension, error);
    }
  }
  return dropped;
}

int64_t RemoveLooseObjects(const std::string& repo_path, const std::set<std::string>& doomed) {
  int64_t removed = 0;
  std::error_code error;
  for (const std::string& id : doomed) {
    if (fs::remove(fs::path(repo_path) / "objects" / id.substr(0, 2) / id.substr(2), error)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace

namespace git_internal {

namespace {

int CollectPackObject(const git_oid* id, void* payload) {
  static_cast<std::vector<git_oid>*>(payload)->push_back(*id);
  return 0;
}

}  // namespace

Result<std::vector<git_oid>> ListPack(const std::string& index_path) {
  git_odb_backend* backend = nullptr;
  if (int rc = git_odb_backend_one_pack(&backend, index_path.c_str()); rc != 0) {
    return GitError(rc, "opening pack " + index_path);
  }
  git_odb* odb = nullptr;
  if (int rc = git_odb_new(&odb); rc != 0) {
    backend->free(backend);
    return GitError(rc, "opening pack " + index_path);
  }
  OwnedOdb owned(odb);
  if (int rc = git_odb_add_backend(odb, backend, 1); rc != 0) {
    backend->free(backend);
    return GitError(rc, "opening pack " + index_path);
  }
  std::vector<git_oid> ids;
  if (int rc = git_odb_foreach(odb, CollectPackObject, &ids); rc != 0) {
    return GitError(rc, "listing pack " + index_path);
  }
  return ids;
}

}  // namespace git_internal

Result<PruneResult> GitStore::Prune(const RetentionPolicy& policy) {
  REBOUND_RETURN_IF_ERROR(RefuseForApplication("pruning snapshots ([snapshots] keep)"));
  std::lock_guard lock(mutex_);
  if (policy.keep <= 0 || git_repository_head_unborn(repo_) == 1) {
    auto all = LogLocked();
    if (!all.ok()) {
      return all.error();
    }
    return PruneResult{.kept = static_cast<int64_t>(all->size())};
  }
  const std::set<std::string> shallow = ReadShallow(path_);
  auto chain = HeadChain(repo_, shallow);
  if (!chain.ok()) {
    return chain.error();
  }
  size_t keep_count = static_cast<size_t>(policy.keep);
  if (policy.keep_unpushed) {
    // Not pushed yet, or pushed elsewhere: nothing is known to be safe on the remote.
    const git_oid* pushed = nullptr;
    git_oid pushed_id;
    if (git_reference_name_to_id(&pushed_id, repo_, kPushedRef) == 0) {
      pushed = &pushed_id;
    }
    const auto at =
        pushed == nullptr ? chain->end() : std::find(chain->begin(), chain->end(), OidHex(pushed));
    keep_count =
        at == chain->end() ? chain->size() : std::max(keep_count, size_t(at - chain->begin()) + 1);
  }
  std::set<std::string> kept(chain->begin(), chain->begin() + std::min(keep_count, chain->size()));
  for (const auto& [name, oid] : ListTags(repo_)) {
    if (auto tagged = LookupCommit(repo_, OidHex(&oid)); tagged.ok()) {
      kept.insert(OidHex(git_commit_id(tagged->get())));
    }
  }
  std::set<std::string> dropped;
  for (size_t i = keep_count; i < chain->size(); ++i) {
    if (kept.count((*chain)[i]) == 0) {
      dropped.insert((*chain)[i]);
    }
  }
  PruneResult result{.kept = static_cast<int64_t>(kept.size()),
                     .dropped = static_cast<int64_t>(dropped.size())};
  if (dropped.empty()) {
    return result;
  }
  auto live = DocumentObjects(repo_, kept);
  auto doomed = DocumentObjects(repo_, dropped);
  auto boundaries = Boundaries(repo_, kept);
  if (!live.ok() || !doomed.ok() || !boundaries.ok()) {
    const Error& error =
        !live.ok() ? live.error() : (!doomed.ok() ? doomed.error() : boundaries.error());
    return error.WithContext("pruning " + path_);
  }
  for (const std::string& id : *live) {
    doomed->erase(id);  // a document identical to a kept one is shared, not pruned
  }
  if (Status written = WriteShallow(path_, *boundaries); !written.ok()) {
    return written.error().WithContext("pruning " + path_);
  }
  auto repacked = RewritePacks(repo_, path_, *doomed);
  if (!repacked.ok()) {
    return repacked.error().WithContext("pruning " + path_);
  }
  result.objects_removed = *repacked + RemoveLooseObjects(path_, *doomed);
  REBOUND_RETURN_IF_ERROR(ReopenLocked());
  return result;
}

}  // namespace rebound::snapshot
