#pragma once

// What /proc says about a process: enough to tell one process from a later one that reuses
// its pid (DESIGN.md, re-adoption).
//
//   Result<uint64_t> start = ProcessStartTime(pid);
//   bool same_process = ProcessExists(pid) && start.ok() && *start == recorded_start_time;
//
// Free functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/file_system.h"

namespace rebound::supervise {

// Field 22 (starttime) of /proc/PID/stat: clock ticks after boot at which the process
// started. not_found when there is no such process.
Result<uint64_t> ProcessStartTime(int pid);

// True if a process (possibly a zombie not yet reaped) has this pid. False for pid <= 0.
bool ProcessExists(int pid);

// Field 22 of the text of a /proc/PID/stat file. The command name (field 2) is in
// parentheses and may itself hold spaces and ')', so fields are counted after the LAST ')'.
// Pure; corruption if the text does not have that shape.
Result<uint64_t> ParseStartTimeFromStat(std::string_view stat_text);

// The words of /proc/PID/cmdline, split on its NULs (so options and values compare as whole
// words), read through `fs`; empty when it cannot be read.
std::vector<std::string> ProcessCommandLine(FileSystem& fs, int pid);

}  // namespace rebound::supervise
