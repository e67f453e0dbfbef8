#pragma once

// The records a shim leaves in the run directory for the daemon (DESIGN.md, "Processes: shims
// and re-adoption"): NAME.child, written right after the service starts, and NAME.exit,
// written when it ends, before the shim itself exits.
//
//   ExitRecord record{.name = "api", .shim_pid = 40, .child_pid = 41, .exit_code = 3,
//                     .started_ms = 1000, .ended_ms = 2000};
//   REBOUND_RETURN_IF_ERROR(WriteExitRecord(fs, ExitRecordPath("/run/rebound", "api"), record));
//   Result<ExitRecord> read = ReadExitRecord(fs, ExitRecordPath("/run/rebound", "api"));
//   if (read.ok()) log << DescribeExit(*read);   // "exited with code 3"
//
// Both files are written atomically and checksummed (base/atomic_file.h). A read returns
// not_found when the file is absent and corruption when its checksum, JSON or fields are bad.
// The JSON format is documented in docs/shim.md. Plain values and free functions: thread-safe.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/file_system.h"

namespace rebound::supervise {

struct ExitRecord;

// How the previous child of a shim that restarted its service itself ended (docs/shim.md,
// "Restarting without the daemon").
struct PreviousExit {
  int child_pid = 0;
  std::optional<int> exit_code = {};
  std::optional<int> signal = {};
  bool core_dumped = false;
  int64_t started_ms = 0;  // Unix milliseconds
  int64_t ended_ms = 0;

  bool operator==(const PreviousExit&) const = default;
};

// Identifies a running service: the pid together with the start time (field 22 of
// /proc/PID/stat) names one process even after the pid has been reused.
struct ChildRecord {
  std::string name;
  int shim_pid = 0;
  int child_pid = 0;
  uint64_t child_start_time = 0;  // clock ticks since boot
  int64_t started_ms = 0;         // Unix milliseconds
  // Restarts the shim did itself (0 for its first child); older records lack it: 0.
  uint64_t generation = 0;
  // How the child before this one ended; set when generation > 0.
  std::optional<PreviousExit> previous_exit = {};

  nlohmann::json ToJson() const;
  static Result<ChildRecord> FromJson(const nlohmann::json& json);
  bool operator==(const ChildRecord&) const = default;
};

// How a service ended. Exactly one of exit_code and signal is set. A command that could not
// be executed is recorded as a shell does: exit code 127 (not found) or 126 (not executable),
// with child_pid 0 because no process ever ran.
struct ExitRecord {
  std::string name;
  int shim_pid = 0;
  int child_pid = 0;
  std::optional<int> exit_code = {};
  std::optional<int> signal = {};
  bool core_dumped = false;
  int64_t started_ms = 0;  // Unix milliseconds
  int64_t ended_ms = 0;

  nlohmann::json ToJson() const;
  static Result<ExitRecord> FromJson(const nlohmann::json& json);
  bool operator==(const ExitRecord&) const = default;
};

// "DIR/NAME.exit" and "DIR/NAME.child".
std::string ExitRecordPath(const std::string& run_dir, const std::string& name);
std::string ChildRecordPath(const std::string& run_dir, const std::string& name);

// kDurable: on disk before the call returns (a shim with no store behind it). kAtomicOnly:
// atomic but not fsynced, what the daemon's shims use for services and jobs alike, as
// docs/shim.md explains; it takes two fsyncs off every exit. (The job runner's records are
// made durable in batches by ExitRecordWriter.)
Status WriteExitRecord(FileSystem& fs, const std::string& path, const ExitRecord& record,
                       FileDurability durability = FileDurability::kDurable);
Result<ExitRecord> ReadExitRecord(FileSystem& fs, const std::string& path);
Status WriteChildRecord(FileSystem& fs, const std::string& path, const ChildRecord& record);
Result<ChildRecord> ReadChildRecord(FileSystem& fs, const std::string& path);

// "exited with code 3", "killed by signal 9 (SIGKILL)",
// "killed by signal 11 (SIGSEGV), core dumped".
std::string DescribeExit(const ExitRecord& record);
std::string DescribeExit(const PreviousExit& exit);

// "SIGKILL" for 9; "signal 77" for a number with no name.
std::string SignalName(int signal);

}  // namespace rebound::supervise
