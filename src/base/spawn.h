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

// Returns 0 and sets `pid`, or the errno value. REQUIRES: `command` is not empty.
int SpawnInOwnGroup(const std::vector<std::string>& command,
                    const posix_spawn_file_actions_t& actions, pid_t& pid);

}  // namespace rebound
