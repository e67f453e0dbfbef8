#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/run_dir.h"

namespace rebound::engine {

Status PrepareRunDir(const std::string& dir) {
  Status created = DefaultFileSystem().CreateDirs(dir);
  if (!created.ok()) {
    return created.error().WithContext("daemon.run_dir " + dir);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return ErrnoError(errno, "daemon.run_dir " + dir);
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
  if ((st.st_mode & 07777) != S_IRWXU && ::chmod(dir.c_str(), S_IRWXU) != 0) {
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

Status CheckRunDirMove(FileSystem& fs, const std::string& config_path, const std::string& previous,
                       const std::string& current) {
  if (previous == current) {
    return OkStatus();
  }
  const std::vector<std::string> left = ServiceRecordsIn(fs, previous);
  if (left.empty()) {
    return OkStatus();
  }
  std::string names;
  for (const std::string& name : left) {
    names += (names.empty() ? "" : ", ") + name;
  }
  return ValidationError(config_path + ": daemon.run_dir is " + current + ", but the shims of " +
                         names + ", started by the previous daemon, keep their records in " +
                         previous +
                         ": this daemon would not find them and would start those services a "
                         "second time. Put run_dir back, stop those services (rebound stop "
                         "NAME), then change it");
}

}  // namespace rebound::engine
