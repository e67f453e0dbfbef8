#pragma once

// How the job runner starts a job's process (job_runner_posix.cc): in a process group of its
// own, stdin /dev/null, stdout and stderr into `output_fd`, the runner's environment plus the
// job's (a PATH there is the one the command is looked up in), the job's cwd.
//
//   RaiseJobRunnerDescriptorLimit();              // once, at the runner's start
//   pid_t pid; int error = SpawnJob(start, pipe_write_end, pid);   // 0 or an errno
//
// Free functions; SpawnJob reads the process's environment.

#include <sys/types.h>

#include "supervise/runner_protocol.h"

namespace rebound::supervise {

// Starts the job in a process group of its own, output into `output_fd`. 0 or an errno.
int SpawnJob(const RunnerStart& start, int output_fd, pid_t& pid);

// Raises the soft RLIMIT_NOFILE to 65536 (within the hard limit); jobs inherit it.
void RaiseJobRunnerDescriptorLimit();

}  // namespace rebound::supervise
