#pragma once

// Spawning a short-lived helper command (an exec health probe, a module's source or restore
// command) from the daemon: PATH lookup, its own process group so that a timeout can kill it
// whole, and the default signal dispositions with nothing blocked, since the daemon blocks
// SIGTERM/SIGINT/SIGHUP for its signalfd and ignores SIGPIPE, and a child would inherit both.
//
//   posix_spawn_file_actions_t actions;   // the caller's pipes, dup2'ed onto 0, 1, 2
//   pid_t pid;
//   if (int rc = SpawnInOwnGroup(command, actions, pid); rc != 0) { ... strerror(rc) ... }
//
// Thread-safe.

#include <spawn.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace rebound {

struct SpawnOptions {
  std::string program = {};                       // what to exec; empty: command[0] (PATH lookup)
  const std::vector<std::string>* env = nullptr;  // "KEY=VALUE" each; null: this process's
};

// The null-terminated char* array that exec and posix_spawn take for argv or envp, pointing
// into `strings` (which must outlive it).
std::vector<char*> ExecPointers(const std::vector<std::string>& strings);

// Returns 0 and sets `pid`, or the errno value. REQUIRES: `command` is not empty.
int SpawnInOwnGroup(const std::vector<std::string>& command,
                    const posix_spawn_file_actions_t& actions, pid_t& pid,
                    const SpawnOptions& options = {});

// The file actions of a supervised process (a service under its shim, a job under the runner):
// stdin from /dev/null, stdout and stderr both into `output_fd` (one pipe keeps their order),
// every other descriptor closed (none the supervisor leaked reaches it), and `cwd` as its
// working directory unless empty.
class SupervisedFileActions {
 public:
  SupervisedFileActions(int output_fd, const std::string& cwd);
  ~SupervisedFileActions();
  SupervisedFileActions(const SupervisedFileActions&) = delete;
  SupervisedFileActions& operator=(const SupervisedFileActions&) = delete;

  const posix_spawn_file_actions_t& get() const { return actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace rebound
