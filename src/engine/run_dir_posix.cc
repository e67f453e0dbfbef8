#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "engine/run_dir.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"

namespace rebound::engine {
namespace {

// The fix every refusal of an ancestor suggests.
constexpr std::string_view kPrivateParent =
    "; put run_dir in a directory that only this user or root can change, e.g. "
    "$XDG_RUNTIME_DIR/rebound, or /run/rebound created by root with mode 0700";

std::string Octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Refuses an ancestor of the run directory whose entries another user could replace: whoever
// can swap the run directory (or a link on its way) can forge NAME.child, and the daemon
// signals the process group a record names.
Status CheckAncestor(const std::string& dir, const std::string& ancestor, const struct stat& st) {
  const std::string what = "daemon.run_dir " + dir + ": its ancestor " + ancestor;
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return PermissionError(what + " belongs to uid " + std::to_string(st.st_uid) +
                           ", neither root nor this daemon's user (uid " +
                           std::to_string(::geteuid()) + "), who could replace what it holds" +
                           std::string(kPrivateParent));
  }
  const bool others_may_write = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  if (S_ISDIR(st.st_mode) && others_may_write && (st.st_mode & S_ISVTX) == 0) {
    return PermissionError(what + " (mode " + Octal(st.st_mode) +
                           ") is writable by other users and not sticky, so they could replace "
                           "what it holds" +
                           std::string(kPrivateParent));
  }
  return OkStatus();
}

// Checks each existing ancestor of `path` (the leaf excluded) from the root down, as named:
// links are checked themselves (lstat), not followed. The deepest one that exists, or "".
Result<std::string> CheckNamedAncestors(const std::string& dir, const std::filesystem::path& path) {
  std::filesystem::path prefix;
  std::string deepest;
  for (const std::filesystem::path& part : path.parent_path()) {
    prefix /= part;
    struct stat st {};
    if (::lstat(prefix.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        break;  // created below, by this user
      }
      return ErrnoError(errno, "daemon.run_dir " + dir + ": " + prefix.string());
    }
    REBOUND_RETURN_IF_ERROR(CheckAncestor(dir, prefix.string(), st));
    deepest = prefix.string();
  }
  return deepest;
}

// `dir` made absolute, without a trailing "/" (with one, lstat would follow a link).
Result<std::filesystem::path> AbsoluteRunDir(const std::string& dir) {
  std::error_code error;
  std::filesystem::path path = std::filesystem::absolute(dir, error);
  if (error) {
    return ErrnoError(error.value(), "daemon.run_dir " + dir);
  }
  return path.has_filename() ? path : path.parent_path();
}

// Refuses the run directory's ancestors, both as named and where links among them lead.
Status CheckAncestors(const std::string& dir, const std::filesystem::path& path) {
  auto deepest = CheckNamedAncestors(dir, path);
  if (!deepest.ok() || deepest->empty()) {
    return deepest.ok() ? OkStatus() : Status(deepest.error());
  }
  char resolved[PATH_MAX];
  if (::realpath(deepest->c_str(), resolved) == nullptr) {
    return ErrnoError(errno, "daemon.run_dir " + dir + ": resolving " + *deepest);
  }
  // The resolved path has no links; its last component is checked too (a parent, not the leaf).
  auto checked = CheckNamedAncestors(dir, std::filesystem::path(resolved) / "leaf");
  return checked.ok() ? OkStatus() : Status(checked.error());
}

// Creates the missing directories of `path`, each readable by this user alone.
Status CreateRunDir(const std::string& dir, const std::filesystem::path& path) {
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : path) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), S_IRWXU) != 0 && errno != EEXIST) {
      return ErrnoError(errno, "daemon.run_dir " + dir + ": creating " + prefix.string());
    }
  }
  return OkStatus();
}

}  // namespace

Status PrepareRunDir(const std::string& dir) {
  auto path = AbsoluteRunDir(dir);
  if (!path.ok()) {
    return path.error();
  }
  REBOUND_RETURN_IF_ERROR(CheckAncestors(dir, *path));
  REBOUND_RETURN_IF_ERROR(CreateRunDir(dir, *path));
  // Again: a parent missing at the first check may have been made by someone else meanwhile.
  REBOUND_RETURN_IF_ERROR(CheckAncestors(dir, *path));
  struct stat st {};
  if (::lstat(path->c_str(), &st) != 0) {
    return ErrnoError(errno, "daemon.run_dir " + dir);
  }
  if (S_ISLNK(st.st_mode)) {
    return ValidationError("daemon.run_dir " + dir +
                           " is a symbolic link, which could be pointed elsewhere; name the "
                           "directory itself");
  }
  if (!S_ISDIR(st.st_mode)) {
    return ValidationError("daemon.run_dir " + dir + " is not a directory; name a directory");
  }
  if (st.st_uid != ::geteuid()) {
    return PermissionError("daemon.run_dir " + dir + " belongs to uid " +
                           std::to_string(st.st_uid) + ", not to this daemon's user (uid " +
                           std::to_string(::geteuid()) +
                           "); choose a directory of its own, e.g. under $XDG_RUNTIME_DIR");
  }
  // The records name the services' processes: nobody else needs to read or touch them.
  if ((st.st_mode & 07777) != S_IRWXU && ::chmod(path->c_str(), S_IRWXU) != 0) {
    return ErrnoError(errno, "daemon.run_dir " + dir + ": setting mode 0700");
  }
  return OkStatus();
}

std::vector<std::string> ServiceRecordsIn(FileSystem& fs, const std::string& dir) {
  constexpr std::string_view kSuffix = ".child";
  std::vector<std::string> services;
  auto entries = fs.ListDir(dir);
  for (const std::string& entry : entries.value_or(std::vector<std::string>{})) {
    if (entry.size() > kSuffix.size() && entry.ends_with(kSuffix) && !entry.starts_with("job:")) {
      services.push_back(entry.substr(0, entry.size() - kSuffix.size()));
    }
  }
  return services;
}

std::vector<std::string> LiveShimsIn(FileSystem& fs, const std::string& dir) {
  std::vector<std::string> live;
  for (const std::string& name : ServiceRecordsIn(fs, dir)) {
    auto record = supervise::ReadChildRecord(fs, supervise::ChildRecordPath(dir, name));
    if (record.ok() && supervise::IsShimFor(fs, record->shim_pid, name, dir)) {
      live.push_back(name);
    }
  }
  return live;
}

Status CheckRunDirMove(FileSystem& fs, const std::string& config_path, const std::string& previous,
                       const std::string& current) {
  if (previous == current) {
    return OkStatus();
  }
  const std::vector<std::string> left = LiveShimsIn(fs, previous);
  if (left.empty()) {
    return OkStatus();
  }
  std::string names;
  for (const std::string& name : left) {
    names += (names.empty() ? "" : ", ") + name;
  }
  return ValidationError(config_path + ": daemon.run_dir is " + current + ", but the shims of " +
                         names +
                         ", started by the previous daemon, still run and keep their "
                         "records in " +
                         previous +
                         ": this daemon would not find them and would start those services a "
                         "second time. Put run_dir back, start rebound, stop it gracefully "
                         "(SIGTERM: its services stop with it), then change run_dir");
}

}  // namespace rebound::engine
