// RssByProcessGroup and SystemAvailableMemory (memory_watchdog.h), from /proc.

#include <dirent.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "health/memory_watchdog.h"

namespace rebound::health {
namespace {

// The process group of `pid` from /proc/PID/stat (field 5), or -1 if it is gone.
int ProcessGroupOf(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text;
  if (!std::getline(stat, text)) {
    return -1;
  }
  // The command name (field 2) may hold spaces and parentheses: skip past its last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return -1;
  }
  std::istringstream fields(text.substr(close + 1));
  std::string state;
  int ppid = 0;
  int pgrp = -1;
  fields >> state >> ppid >> pgrp;
  return fields ? pgrp : -1;
}

int64_t ResidentBytes(const std::string& pid) {
  std::ifstream statm("/proc/" + pid + "/statm");
  int64_t size = 0;
  int64_t resident = 0;
  statm >> size >> resident;
  return statm ? resident * ::sysconf(_SC_PAGESIZE) : 0;
}

}  // namespace

Result<std::map<int, int64_t>> RssByProcessGroup() {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) {
    return ErrnoError(errno, "reading /proc");
  }
  std::map<int, int64_t> totals;
  while (const dirent* entry = ::readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) {
      continue;
    }
    const std::string pid = entry->d_name;
    if (const int pgid = ProcessGroupOf(pid); pgid > 0) {
      totals[pgid] += ResidentBytes(pid);
    }
  }
  ::closedir(proc);
  return totals;
}

Result<int64_t> SystemAvailableMemory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t value = 0;
  std::string unit;
  while (meminfo >> key >> value) {
    std::getline(meminfo, unit);
    if (key == "MemAvailable:") {
      return value * 1024;  // the kernel reports kB
    }
  }
  return NotFoundError("MemAvailable not found in /proc/meminfo");
}

}  // namespace rebound::health
