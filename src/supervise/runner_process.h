#pragma once

// The job runner's processes as /proc and its records show them, for whoever must find the
// runner of a run directory (the runner launcher, JobLauncher) or kill what a dead one left.
//
//   if (auto pid = FindJobRunnerProcess(fs, run_dir)) { ... connect ... }
//   bool runs_it = IsJobRunnerFor(fs, child.shim_pid, run_dir);
//   KillOrphanedJob(fs, run_dir, "job:7");   // its runner is gone
//
// Free functions; thread-safe.

#include <optional>
#include <string>

#include "base/file_system.h"
#include "supervise/exit_record.h"

namespace rebound::supervise {

// "rebound runner --run-dir RUN_DIR ...": the runner of this run directory, whichever binary.
bool IsJobRunnerFor(FileSystem& fs, int pid, const std::string& run_dir);

// A live runner of `run_dir`, found in /proc.
std::optional<int> FindJobRunnerProcess(FileSystem& fs, const std::string& run_dir);

// Kills the job's process group if `child` names a live process (pid and start time).
bool KillRecordedProcessGroup(const ChildRecord& child);

// Kills what a dead runner left of job `name`: every record of the name is tried
// (child_table.h; a stale one names a process that is gone), but one that a live shim of the
// job wrote is that shim's to act on: its job is no orphan.
bool KillOrphanedJob(FileSystem& fs, const std::string& run_dir, const std::string& name);

}  // namespace rebound::supervise
