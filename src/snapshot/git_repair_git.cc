// GitStore::RepairFrom: `rebound repair`. Damaged files are moved aside, never deleted (they
// are evidence, and a bad guess must be undoable); objects come back only from a fetch of the
// remote into a separate staging repository, so nothing the remote sends is trusted until
// libgit2 has checked its hash while copying it in (strict hash verification is on).

#include <git2.h>

#include <filesystem>
#include <set>

#include "snapshot/git_internal_git.h"
#include "snapshot/git_store.h"

namespace rebound::snapshot {

using namespace git_internal;  // NOLINT(build/namespaces): part of the libgit2 adapter

namespace {

namespace fs = std::filesystem;

constexpr int kMaxRounds = 16;  // each round uncovers at most one more level of the history

// A staging repository beside `repo_path` holding everything the remote has.
Result<OwnedRepository> FetchStaging(const std::string& repo_path, const std::string& url) {
  const std::string staging = repo_path + ".repair";
  std::error_code error;
  fs::remove_all(staging, error);
  git_repository* repo = nullptr;
  if (int rc = git_repository_init(&repo, staging.c_str(), /*is_bare=*/1); rc != 0) {
    return GitError(rc, "creating " + staging);
  }
  OwnedRepository owned(repo);
  if (Status fetched = FetchAll(repo, url); !fetched.ok()) {
    return fetched.error();
  }
  return owned;
}

// Moves `file` into `quarantine`, returning its new path ("" if it was not there).
std::string Quarantine(const fs::path& file, const fs::path& quarantine, const std::string& as) {
  std::error_code error;
  if (!fs::exists(file, error)) {
    return "";
  }
  fs::create_directories(quarantine, error);
  const fs::path target = quarantine / as;
  fs::rename(file, target, error);
  return error ? "" : target.string();
}

// The .idx of the pack in `repo_path` that lists `id`, or "".
std::string PackHolding(const std::string& repo_path, const std::string& id) {
  std::error_code error;
  for (const auto& entry :
       fs::directory_iterator(fs::path(repo_path) / "objects" / "pack", error)) {
    if (entry.path().extension() != ".idx") {
      continue;
    }
    for (const git_oid& listed : ListPack(entry.path().string()).value_or({})) {
      if (OidHex(&listed) == id) {
        return entry.path().string();
      }
    }
  }
  return "";
}

// Moves the damaged copy of `id` (its loose file, or the whole pack holding it) aside.
void QuarantineDamaged(const std::string& repo_path, const std::string& id,
                       std::vector<std::string>& moved) {
  const fs::path quarantine = fs::path(repo_path) / "quarantine";
  const fs::path loose = fs::path(repo_path) / "objects" / id.substr(0, 2) / id.substr(2);
  if (std::string to = Quarantine(loose, quarantine, id); !to.empty()) {
    moved.push_back(to);
    return;
  }
  const std::string index = PackHolding(repo_path, id);
  if (index.empty()) {
    return;  // simply missing
  }
  fs::path stem(index);
  stem.replace_extension();
  for (const char* extension : {".idx", ".pack", ".rev"}) {
    const fs::path file = stem.string() + extension;
    if (std::string to = Quarantine(file, quarantine, file.filename().string()); !to.empty()) {
      moved.push_back(to);
    }
  }
}

// Copies `id` from `from` into `to` (hash checked on read); false if `from` lacks it.
Result<bool> CopyObject(git_odb* from, git_odb* to, const std::string& id) {
  git_oid oid;
  git_oid_fromstr(&oid, id.c_str());
  git_odb_object* object = nullptr;
  if (git_odb_read(&object, from, &oid) != 0) {
    return false;
  }
  OwnedOdbObject owned(object);
  git_oid written;
  if (int rc = git_odb_write(&written, to, git_odb_object_data(object), git_odb_object_size(object),
                             git_odb_object_type(object));
      rc != 0) {
    return GitError(rc, "writing back " + id);
  }
  return true;
}

// Retention keeps the commit objects of pruned snapshots below the `shallow` boundaries, and
// libgit2 needs them to push (it ignores `shallow`); CheckObjects does not look there. Copies
// back any of them that is missing; returns how many.
Result<int64_t> RestoreCommitChain(git_repository* repo, git_odb* remote_odb) {
  git_odb* odb = nullptr;
  if (int rc = git_repository_odb(&odb, repo); rc != 0) {
    return GitError(rc, "opening the object database");
  }
  OwnedOdb owned(odb);
  std::vector<git_oid> queue;
  if (git_oid head; git_reference_name_to_id(&head, repo, "HEAD") == 0) {
    queue.push_back(head);
  }
  int64_t restored = 0;
  std::set<std::string> seen;
  while (!queue.empty()) {
    const git_oid id = queue.back();
    queue.pop_back();
    if (!seen.insert(OidHex(&id)).second) {
      continue;
    }
    if (git_odb_exists(odb, &id) != 1) {
      auto copied = CopyObject(remote_odb, odb, OidHex(&id));
      if (!copied.ok() || !*copied) {
        continue;  // not on the remote either: the walk stops here
      }
      ++restored;
    }
    git_commit* commit = nullptr;
    if (git_commit_lookup(&commit, repo, &id) != 0) {
      continue;
    }
    OwnedCommit owned_commit(commit);
    for (unsigned i = 0; i < git_commit_parentcount(commit); ++i) {
      queue.push_back(*git_commit_parent_id(commit, i));
    }
  }
  return restored;
}

}  // namespace

Result<RepairResult> GitStore::RepairFrom(const std::string& url) {
  REBOUND_RETURN_IF_ERROR(RefuseForApplication("repair"));
  std::lock_guard lock(mutex_);
  auto staging = FetchStaging(path_, url);
  if (!staging.ok()) {
    return staging.error().WithContext("repair: fetching from " + url);
  }
  git_odb* remote_odb = nullptr;
  if (int rc = git_repository_odb(&remote_odb, staging->get()); rc != 0) {
    return GitError(rc, "repair: opening what was fetched");
  }
  OwnedOdb owned_remote(remote_odb);
  RepairResult result;
  std::set<std::string> unrepairable;
  for (int round = 0; round < kMaxRounds; ++round) {
    auto check = CheckObjectsLocked();
    if (!check.ok()) {
      return check.error().WithContext("repair");
    }
    std::vector<std::string> wanted;
    for (const std::string& id : check->bad_objects) {
      if (unrepairable.count(id) == 0) {
        wanted.push_back(id);
      }
    }
    if (wanted.empty()) {
      break;
    }
    for (const std::string& id : wanted) {
      QuarantineDamaged(path_, id, result.quarantined);
    }
    REBOUND_RETURN_IF_ERROR(ReopenLocked());  // forget the packs just moved aside
    git_odb* odb = nullptr;
    if (int rc = git_repository_odb(&odb, repo_); rc != 0) {
      return GitError(rc, "repair: opening the object database");
    }
    OwnedOdb owned(odb);
    for (const std::string& id : wanted) {
      auto copied = CopyObject(remote_odb, odb, id);
      if (!copied.ok()) {
        return copied.error().WithContext("repair");
      }
      if (*copied) {
        ++result.restored;
      } else {
        unrepairable.insert(id);
      }
    }
  }
  auto chain = RestoreCommitChain(repo_, remote_odb);
  if (!chain.ok()) {
    return chain.error().WithContext("repair");
  }
  result.restored += *chain;
  result.unrepairable.assign(unrepairable.begin(), unrepairable.end());
  std::error_code error;
  staging->reset();
  fs::remove_all(path_ + ".repair", error);
  return result;
}

}  // namespace rebound::snapshot
