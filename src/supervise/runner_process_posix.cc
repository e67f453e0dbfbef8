// The half of runner_process.h that reads /proc and signals processes.

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "base/unique_fd.h"
#include "supervise/child_table.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "supervise/runner_process.h"

namespace rebound::supervise {

bool IsJobRunnerFor(FileSystem& fs, int pid, const std::string& run_dir) {
  const std::vector<std::string> args = ProcessCommandLine(fs, pid);
  return args.size() > 3 && args[1] == "runner" && args[2] == "--run-dir" && args[3] == run_dir;
}

std::optional<int> FindJobRunnerProcess(FileSystem& fs, const std::string& run_dir) {
  auto entries = fs.ListDir("/proc");
  for (const std::string& entry : entries.value_or(std::vector<std::string>{})) {
    if (!entry.empty() && std::all_of(entry.begin(), entry.end(), ::isdigit) &&
        IsJobRunnerFor(fs, std::stoi(entry), run_dir)) {
      return std::stoi(entry);
    }
  }
  return std::nullopt;
}

// Kills the job's process group if its child record names a live process: a job whose runner
// is gone has nobody to record its end. The pidfd is opened before the start time is checked,
// so the leader it signals is the process the record names even if its pid was reused since.
// The group's other members are then killed by pgid: the group (and so its id) lives on as
// long as any of them does.
bool KillRecordedProcessGroup(const ChildRecord& child) {
  if (child.child_pid <= 0) {
    return false;
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.child_pid, 0)));
  auto start_time = ProcessStartTime(child.child_pid);
  if (!pidfd.IsOpen() || !start_time.ok() || *start_time != child.child_start_time) {
    return false;
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0) {
    return false;  // it ended as we looked
  }
  (void)::kill(-child.child_pid, SIGKILL);
  return true;
}

bool KillOrphanedJob(FileSystem& fs, const std::string& run_dir, const std::string& name) {
  bool killed = false;
  for (const ChildRecord& child : FindChildRecords(fs, run_dir, name)) {
    if (!IsShimFor(fs, child.shim_pid, name, run_dir)) {
      killed = KillRecordedProcessGroup(child) || killed;
    }
  }
  return killed;
}

}  // namespace rebound::supervise
