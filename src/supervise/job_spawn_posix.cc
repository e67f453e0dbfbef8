// The half of job_spawn.h that calls posix_spawn and setrlimit.

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "base/spawn.h"
#include "supervise/job_spawn.h"

extern char** environ;

namespace rebound::supervise {
namespace {

// The runner's environment with the job's variables added (they override).
std::vector<std::string> JobEnvironment(const std::map<std::string, std::string>& overrides) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string variable = *entry;
    if (!overrides.contains(variable.substr(0, variable.find('=')))) {
      env.push_back(variable);
    }
  }
  for (const auto& [key, value] : overrides) {
    env.push_back(key + "=" + value);
  }
  return env;
}

// posix_spawnp looks COMMAND up in the runner's PATH; a job that sets its own PATH gets its
// command looked up there, as it would under a shim.
std::string ResolveCommand(const RunnerStart& start) {
  const std::string& program = start.command.front();
  auto path = start.env.find("PATH");
  if (program.find('/') != std::string::npos || path == start.env.end()) {
    return program;
  }
  for (size_t begin = 0; begin <= path->second.size();) {
    size_t end = path->second.find(':', begin);
    end = end == std::string::npos ? path->second.size() : end;
    const std::string dir = end > begin ? path->second.substr(begin, end - begin) : ".";
    const std::string candidate = dir + "/" + program;
    struct stat info;
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    begin = end + 1;
  }
  return "/nonexistent/" + program;  // not in the job's PATH: ENOENT, reported as 127
}

}  // namespace

// The runner holds two or three descriptors per running job (pidfd, output pipe, log): its soft
// RLIMIT_NOFILE is raised (within the hard limit) to 65536, so that a soft limit of 1024 does
// not cap it near 300 jobs. Not to the hard limit itself, which jobs inherit too: it can be
// 2^30, and a program that closes every descriptor up to it would crawl (docs/jobs.md).
void RaiseJobRunnerDescriptorLimit() {
  constexpr rlim_t kRunnerDescriptors = 65536;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < kRunnerDescriptors) {
    limit.rlim_cur = std::min(limit.rlim_max, kRunnerDescriptors);
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int SpawnJob(const RunnerStart& start, int output_fd, pid_t& pid) {
  const SupervisedFileActions actions(output_fd, start.cwd);
  const std::vector<std::string> env = JobEnvironment(start.env);
  return SpawnInOwnGroup(start.command, actions.get(), pid,
                         {.program = ResolveCommand(start), .env = &env});
}

}  // namespace rebound::supervise
