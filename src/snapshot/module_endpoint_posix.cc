// The real EndpointTransport: HTTP through cpp-httplib, files through the FileSystem (written
// atomically), commands through posix_spawn in their own process group, fed on stdin and read
// on stdout, the group killed at the timeout.

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/atomic_file.h"
#include "base/duration.h"
#include "base/spawn.h"
#include "snapshot/module_endpoint.h"

namespace rebound::snapshot {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kKeptStderr = 512;

// "http://host:port/path?q" -> {"http://host:port", "/path?q"}.
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t path = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (path == std::string::npos) {
    return {url, "/"};
  }
  return {url.substr(0, path), url.substr(path)};
}

Error HttpError(const std::string& method, const httplib::Result& result, Duration timeout) {
  if (!result) {
    const httplib::Error error = result.error();
    if (error == httplib::Error::Read || error == httplib::Error::Write ||
        error == httplib::Error::ConnectionTimeout) {
      return TimeoutError(method + " gave no answer within " + FormatDuration(timeout) + " (" +
                          httplib::to_string(error) + ")");
    }
    return NetworkError(method + " failed: " + httplib::to_string(error));
  }
  const std::string what = method + " answered HTTP " + std::to_string(result->status);
  if (result->status == 404) {
    return NotFoundError(what);
  }
  return result->status >= 500 ? NetworkError(what) : ValidationError(what);
}

httplib::Client MakeClient(const std::string& base, Duration timeout) {
  httplib::Client client(base);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  client.set_connection_timeout(micros / 1000000, micros % 1000000);
  client.set_read_timeout(micros / 1000000, micros % 1000000);
  client.set_write_timeout(micros / 1000000, micros % 1000000);
  return client;
}

struct Child {
  pid_t pid = -1;
  int in = -1;   // its stdin (we write)
  int out = -1;  // its stdout
  int err = -1;  // its stderr
};

void CloseFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

Result<Child> SpawnCommand(const std::vector<std::string>& command) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) {
        ::close(fd);  // the pipes made before the one that failed (out of descriptors)
      }
    }
    return ErrnoError(error, "pipe");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  Child child;
  // Its own process group: killed whole at the timeout.
  const int rc = SpawnInOwnGroup(command, actions, child.pid);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return NotFoundError(command.front() + ": " + std::strerror(rc));
  }
  child.in = in[1];
  child.out = out[0];
  child.err = err[0];
  ::fcntl(child.in, F_SETFL, O_NONBLOCK);
  return child;
}

// write(2) without SIGPIPE: a command that exits without reading all of its stdin must not
// kill the caller (the offline CLI does not ignore SIGPIPE the way the daemon does). The
// signal is blocked in this thread and a SIGPIPE it raised is consumed.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  const ssize_t n = ::write(fd, data, size);
  const int saved_errno = errno;
  if (n < 0 && saved_errno == EPIPE) {
    const timespec no_wait{0, 0};
    ::sigtimedwait(&pipe_only, nullptr, &no_wait);
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = saved_errno;
  return n;
}

// Feeds `input` to the child and collects its stdout and stderr until both close or the
// deadline passes; false at the deadline.
bool Exchange(Child& child, std::string_view input, SteadyClock::time_point deadline,
              std::string& output, std::string& errors) {
  size_t written = 0;
  if (input.empty()) {
    CloseFd(child.in);
  }
  while (child.out >= 0 || child.err >= 0) {
    pollfd fds[3] = {{child.in, POLLOUT, 0}, {child.out, POLLIN, 0}, {child.err, POLLIN, 0}};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      return false;
    }
    const int ready = ::poll(fds, 3, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return false;
    }
    if (child.in >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n =
          WriteWithoutSigpipe(child.in, input.data() + written, input.size() - written);
      if (n < 0 && errno != EAGAIN) {
        CloseFd(child.in);  // it closed its stdin: the rest of the document is not wanted
      } else if (n > 0 && (written += static_cast<size_t>(n)) == input.size()) {
        CloseFd(child.in);
      }
    }
    char buffer[8192];
    for (auto [fd, sink] : {std::pair{&child.out, &output}, std::pair{&child.err, &errors}}) {
      const pollfd& polled = fd == &child.out ? fds[1] : fds[2];
      if (*fd >= 0 && (polled.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::read(*fd, buffer, sizeof(buffer));
        if (n <= 0) {
          CloseFd(*fd);
        } else {
          sink->append(buffer, static_cast<size_t>(n));
        }
      }
    }
    if (errors.size() > kKeptStderr) {
      errors.erase(0, errors.size() - kKeptStderr);
    }
  }
  return true;
}

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  const size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

// Runs the endpoint's command with `input` on stdin; its stdout when it exits 0.
Result<std::string> RunCommand(const ModuleEndpoint& endpoint, std::string_view input) {
  auto child = SpawnCommand(endpoint.command);
  if (!child.ok()) {
    return child.error();
  }
  const auto deadline = SteadyClock::now() + endpoint.timeout;
  std::string output, errors;
  const bool finished = Exchange(*child, input, deadline, output, errors);
  CloseFd(child->in);
  CloseFd(child->out);
  CloseFd(child->err);
  int status = 0;
  // Closing its output does not mean it is exiting: it may go on (or hang) after that, and
  // the timeout holds until it has exited too.
  bool exited = false;
  while (finished && !exited && SteadyClock::now() < deadline) {
    exited = ::waitpid(child->pid, &status, WNOHANG) == child->pid;
    if (!exited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  if (!exited) {
    ::kill(-child->pid, SIGKILL);
    ::waitpid(child->pid, &status, 0);
  }
  if (!finished || !exited) {
    return TimeoutError("killed after " + FormatDuration(endpoint.timeout) + " without finishing");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return output;
  }
  std::string what = WIFEXITED(status)
                         ? "exited with code " + std::to_string(WEXITSTATUS(status))
                         : std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  const std::string line = LastLine(errors);
  return UnknownError(line.empty() ? what : what + ": " + line);
}

class PosixEndpointTransport final : public EndpointTransport {
 public:
  Result<std::string> Read(const ModuleEndpoint& endpoint) override {
    switch (endpoint.kind) {
      case EndpointKind::kUrl: {
        auto [base, path] = SplitUrl(endpoint.location);
        httplib::Client client = MakeClient(base, endpoint.timeout);
        httplib::Result result = client.Get(path);
        if (!result || result->status < 200 || result->status > 299) {
          return HttpError("GET", result, endpoint.timeout);
        }
        return result->body;
      }
      case EndpointKind::kFile:
        return DefaultFileSystem().ReadFile(endpoint.location);
      case EndpointKind::kCommand:
        return RunCommand(endpoint, "");
    }
    return UnknownError("unknown endpoint kind");
  }

  Status Write(const ModuleEndpoint& endpoint, const std::string& body) override {
    switch (endpoint.kind) {
      case EndpointKind::kUrl: {
        auto [base, path] = SplitUrl(endpoint.location);
        httplib::Client client = MakeClient(base, endpoint.timeout);
        httplib::Result result = client.Put(path, body, "application/json");
        if (!result || result->status < 200 || result->status > 299) {
          return HttpError("PUT", result, endpoint.timeout);
        }
        return OkStatus();
      }
      case EndpointKind::kFile:
        return WriteFileAtomically(DefaultFileSystem(), endpoint.location, body, 0600);
      case EndpointKind::kCommand: {
        auto ran = RunCommand(endpoint, body);
        return ran.ok() ? OkStatus() : Status(ran.error());
      }
    }
    return UnknownError("unknown endpoint kind");
  }
};

}  // namespace

EndpointTransport& DefaultEndpointTransport() {
  static PosixEndpointTransport* transport = new PosixEndpointTransport();
  return *transport;
}

}  // namespace rebound::snapshot
