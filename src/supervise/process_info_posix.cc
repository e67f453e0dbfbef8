#include <signal.h>

#include <cerrno>
#include <string>

#include "base/file_system.h"
#include "supervise/process_info.h"

namespace rebound::supervise {

Result<uint64_t> ProcessStartTime(int pid) {
  if (pid <= 0) {
    return NotFoundError("no process with pid " + std::to_string(pid));
  }
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto text = DefaultFileSystem().ReadFile(path);
  if (!text.ok()) {
    return text.error().WithContext("start time of pid " + std::to_string(pid));
  }
  auto start_time = ParseStartTimeFromStat(*text);
  if (!start_time.ok()) {
    return start_time.error().WithContext(path);
  }
  return start_time;
}

bool ProcessExists(int pid) {
  // pid 0 and negative pids name process groups for kill(): never probe them.
  if (pid <= 0) {
    return false;
  }
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

}  // namespace rebound::supervise
