// The shared helpers of the libgit2 adapter (git_internal_git.h).

#include "snapshot/git_internal_git.h"

#include <fstream>

namespace rebound::snapshot {
namespace git_internal {

Error GitError(int code, const std::string& context) {
  const git_error* last = git_error_last();
  const std::string message =
      context + ": " +
      (last != nullptr && last->message != nullptr ? last->message
                                                   : "error " + std::to_string(code));
  switch (code) {
    case GIT_ENOTFOUND:
    case GIT_EAMBIGUOUS:
      return NotFoundError(message);
    case GIT_EEXISTS:
    case GIT_ENONFASTFORWARD:
      return ConflictError(message);
    case GIT_EINVALIDSPEC:
      return ValidationError(message);
    case GIT_ELOCKED:  // another writer (a git command) holds the lock: retry once it is done
      return ConflictError(message + " (a git command is running there?)");
    default:
      if (last != nullptr && last->klass == GIT_ERROR_ZLIB) {
        return CorruptionError(message);
      }
      if (last != nullptr && (last->klass == GIT_ERROR_NET || last->klass == GIT_ERROR_SSL ||
                              last->klass == GIT_ERROR_HTTP || last->klass == GIT_ERROR_SSH)) {
        return NetworkError(message);
      }
      return UnknownError(message);
  }
}

std::string OidHex(const git_oid* oid) {
  char text[GIT_OID_HEXSZ + 1];
  git_oid_tostr(text, sizeof(text), oid);
  return text;
}

void InitLibgit2Once() {
  static const bool initialized = [] {
    git_libgit2_init();
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
    return true;
  }();
  (void)initialized;
}

Result<OwnedCommit> LookupCommit(git_repository* repo, const std::string& revision) {
  git_object* object = nullptr;
  if (int rc = git_revparse_single(&object, repo, revision.c_str()); rc != 0) {
    return GitError(rc == GIT_EINVALIDSPEC ? GIT_ENOTFOUND : rc,
                    "no snapshot \"" + revision + "\" (expected a commit id or a tag)");
  }
  OwnedObject owned(object);
  git_object* peeled = nullptr;
  if (int rc = git_object_peel(&peeled, object, GIT_OBJECT_COMMIT); rc != 0) {
    return GitError(GIT_ENOTFOUND, "\"" + revision + "\" is not a commit");
  }
  return OwnedCommit(reinterpret_cast<git_commit*>(peeled));
}

namespace {

int CollectTag(const char* name, git_oid* oid, void* payload) {
  auto& tags = *static_cast<std::vector<std::pair<std::string, git_oid>>*>(payload);
  std::string short_name = name;
  constexpr std::string_view kPrefix = "refs/tags/";
  if (short_name.starts_with(kPrefix)) {
    short_name.erase(0, kPrefix.size());
  }
  tags.emplace_back(short_name, *oid);
  return 0;
}

}  // namespace

std::vector<std::pair<std::string, git_oid>> ListTags(git_repository* repo) {
  std::vector<std::pair<std::string, git_oid>> tags;
  git_tag_foreach(repo, CollectTag, &tags);
  return tags;
}

std::set<std::string> ReadShallow(const std::string& repo_path) {
  std::set<std::string> ids;
  std::ifstream file(repo_path + "/shallow");
  for (std::string line; std::getline(file, line);) {
    if (line.size() == GIT_OID_HEXSZ) {
      ids.insert(line);
    }
  }
  return ids;
}

}  // namespace git_internal

}  // namespace rebound::snapshot
