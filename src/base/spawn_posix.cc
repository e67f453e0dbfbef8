#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "base/spawn.h"

extern char** environ;

namespace rebound {

std::vector<char*> ExecPointers(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& text : strings) {
    pointers.push_back(const_cast<char*>(text.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

int SpawnInOwnGroup(const std::vector<std::string>& command,
                    const posix_spawn_file_actions_t& actions, pid_t& pid,
                    const SpawnOptions& options) {
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attributes, 0);  // a new group whose id is the child's pid
  std::vector<char*> argv = ExecPointers(command);
  std::vector<char*> envp =
      options.env != nullptr ? ExecPointers(*options.env) : std::vector<char*>{};
  const std::string& program = options.program.empty() ? command.front() : options.program;
  const int rc = ::posix_spawnp(&pid, program.c_str(), &actions, &attributes, argv.data(),
                                options.env != nullptr ? envp.data() : environ);
  posix_spawnattr_destroy(&attributes);
  return rc;
}

SupervisedFileActions::SupervisedFileActions(int output_fd, const std::string& cwd) {
  ::posix_spawn_file_actions_init(&actions_);
  ::posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions_, output_fd, STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions_, output_fd, STDERR_FILENO);
  ::posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
  if (!cwd.empty()) {
    ::posix_spawn_file_actions_addchdir_np(&actions_, cwd.c_str());
  }
}

SupervisedFileActions::~SupervisedFileActions() { ::posix_spawn_file_actions_destroy(&actions_); }

}  // namespace rebound
