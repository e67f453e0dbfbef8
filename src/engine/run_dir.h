#pragma once

// The services' run directory ([daemon] run_dir, docs/configuration.md): where their shims
// keep NAME.child and NAME.exit. Those records describe live processes only, so a tmpfs suits
// them (no inode search on each creation, which costs ~0.4 ms on an ext4 root: measured in
// docs/benchmarks.md); jobs keep theirs in DATA_DIR/run, on disk. Shims are known by their
// name and run directory alone, so one daemon uses it at a time (DataDirLock::AcquireRunDir).
//
//   REBOUND_RETURN_IF_ERROR(PrepareRunDir("/run/rebound"));      // created 0700, ours
//   if (!LiveShimsIn(fs, old_dir).empty()) { ... }             // shims there still run

#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_system.h"

namespace rebound::engine {

// Creates `dir` and its missing parents (each mode 0700), after refusing any existing
// ancestor that another user could change: one owned by neither root nor this process's user,
// or one writable by group or others without the sticky bit (as named, and where links among
// them lead). The directory itself must not be a symbolic link, must be owned by this
// process's user, and is made readable by that user alone (mode 0700). Whoever could replace
// it could forge NAME.child and have the daemon signal any process group. Errors name the
// directory, the problem and the fix (permission, validation).
Status PrepareRunDir(const std::string& dir);

// The services whose shims left a child record in `dir` (NAME.child; jobs' "job:ID" records
// are not services'). An unreadable or missing directory has none.
std::vector<std::string> ServiceRecordsIn(FileSystem& fs, const std::string& dir);

// The services recorded in `dir` whose shim still runs: the record's shim pid is a live
// `rebound shim` for that name and `dir` (supervise::IsShimFor). Records of dead shims (after
// a reboot, say) and unreadable ones do not count.
std::vector<std::string> LiveShimsIn(FileSystem& fs, const std::string& dir);

// The shims of a previous daemon are found (adopted) through their records in its run
// directory: a daemon configured with another one would start each of them a second time.
// A validation error naming `config_path`, both directories and the services recorded in
// `previous` when it differs from `current` and still holds services' records; else ok.
Status CheckRunDirMove(FileSystem& fs, const std::string& config_path, const std::string& previous,
                       const std::string& current);

}  // namespace rebound::engine
