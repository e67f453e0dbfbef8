// ProbeExec (prober_posix.h): runs the probe command in its own process group, with its
// output on a pipe, and kills the whole group if it outlives the timeout.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "base/duration.h"
#include "base/spawn.h"
#include "health/prober_posix.h"

namespace rebound::health {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kKeptOutput = 512;

struct Spawned {
  pid_t pid = -1;
  int output = -1;  // read end of the pipe that carries stdout and stderr
  std::string error;
};

Spawned Spawn(const std::vector<std::string>& command) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return {.error = std::string("pipe: ") + std::strerror(errno)};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // the daemon's sockets and database
  Spawned spawned;
  // Its own process group: killed whole at the timeout.
  const int rc = SpawnInOwnGroup(command, actions, spawned.pid);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return {.error = command.front() + ": " + std::strerror(rc)};
  }
  spawned.output = pipe_fds[0];
  return spawned;
}

// Reads output until EOF (every holder of the pipe exited) or the deadline; true at EOF.
bool DrainUntil(int fd, SteadyClock::time_point deadline, std::string& kept) {
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    pollfd waiting{.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready == 0) {
      return false;
    }
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) {
      return n == 0;
    }
    kept.append(buffer, static_cast<size_t>(n));
    if (kept.size() > kKeptOutput) {
      kept.erase(0, kept.size() - kKeptOutput);  // the end says most about a failure
    }
  }
}

// Waits for `pid` until the deadline; nullopt if it is still running then.
std::optional<int> WaitUntil(pid_t pid, SteadyClock::time_point deadline) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (pidfd >= 0) {
        ::close(pidfd);
      }
      return status;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0 || pidfd < 0) {
      if (pidfd >= 0) {
        ::close(pidfd);
      }
      return std::nullopt;
    }
    pollfd exited{.fd = pidfd, .events = POLLIN, .revents = 0};
    ::poll(&exited, 1, static_cast<int>(left.count()));
  }
}

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  const size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

std::string Describe(int status, const std::string& output) {
  std::string what = WIFEXITED(status)
                         ? "exited with code " + std::to_string(WEXITSTATUS(status))
                         : std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  const std::string line = LastLine(output);
  return line.empty() ? what : what + ": " + line;
}

}  // namespace

ProbeResult ProbeExec(const ProbeSpec& spec) {
  const auto start = SteadyClock::now();
  Spawned spawned = Spawn(spec.command);
  if (spawned.pid < 0) {
    return {.ok = false, .latency = SteadyClock::now() - start, .reason = spawned.error};
  }
  std::string output;
  const auto deadline = start + spec.timeout;
  const bool closed_output = DrainUntil(spawned.output, deadline, output);
  ::close(spawned.output);
  // It may have closed its output and still run: the deadline holds for the process too.
  std::optional<int> exited = closed_output ? WaitUntil(spawned.pid, deadline) : std::nullopt;
  const bool finished = exited.has_value();
  int status = exited.value_or(0);
  if (!finished) {
    ::kill(-spawned.pid, SIGKILL);  // the whole group: a hung probe leaves nothing behind
    while (::waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  const Duration latency = SteadyClock::now() - start;
  if (!finished) {
    return {.ok = false, .latency = latency,
            .reason = "exec " + spec.command.front() + ": timed out after " +
                      FormatDuration(spec.timeout)};
  }
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return {.ok = ok, .latency = latency,
          .reason = ok ? "" : "exec " + spec.command.front() + ": " + Describe(status, output)};
}

}  // namespace rebound::health
