#pragma once

// The fixture of the `rebound shim` integration tests (shim_test.cc, shim_respawn_test.cc):
// the real binary, real child processes, a temp dir. Every wait is bounded (kTimeout) and
// every process started is killed and reaped.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/fd_watcher.h"
#include "base/file_system.h"
#include "supervise/exit_record.h"
#include "testing/temp_dir.h"

#ifndef REBOUND_BINARY
#error "REBOUND_BINARY must name the built rebound executable"
#endif

extern char** environ;

namespace rebound::supervise {

using namespace std::chrono_literals;

constexpr auto kTimeout = 10s;
constexpr char kName[] = "svc";

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Bits of signals 1 to 31 in a /proc/PID/status signal mask.
constexpr uint64_t kStandardSignalsMask = (uint64_t{1} << 31) - 1;

// The hex mask of a "SigBlk:\t<hex>" style line in `log`; all ones if it is missing.
inline uint64_t MaskInLog(const std::string& log, const std::string& field) {
  const size_t start = log.find(field + ":\t");
  if (start == std::string::npos) {
    return ~uint64_t{0};
  }
  return std::stoull(log.substr(start + field.size() + 2, 16), nullptr, 16);
}

// Polls `condition` every 10 ms until it holds or `timeout` passes.
inline bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Watches pidfds by polling them when asked: enough for a launcher driven by one test thread.
class PollingWatcher final : public FdWatcher {
 public:
  Status WatchFd(int fd, std::function<void()> on_ready) override {
    watched_[fd] = std::move(on_ready);
    return OkStatus();
  }
  Status WatchFdWritable(int, std::function<void()>) override { return OkStatus(); }
  void UnwatchFd(int fd) override { watched_.erase(fd); }

  // Runs the callback of each ready descriptor until `done` holds; false after kTimeout.
  bool RunUntil(const std::function<bool()>& done) {
    return WaitUntil(
        [&] {
          for (auto it = watched_.begin(); it != watched_.end() && !done();) {
            pollfd ready = {it->first, POLLIN, 0};
            auto next = std::next(it);
            if (::poll(&ready, 1, 0) == 1) {
              std::function<void()> callback = it->second;  // it may unwatch itself
              callback();
              next = watched_.lower_bound(ready.fd + 1);
            }
            it = next;
          }
          return done();
        },
        kTimeout);
  }

 private:
  std::map<int, std::function<void()>> watched_;
};

class ShimTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // A pid of 0 or less would name this test's own process group: never signal one.
    for (pid_t group : child_groups_) {
      if (group > 0) {
        ::kill(-group, SIGKILL);
      }
    }
    for (pid_t pid : started_) {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }

  std::string RunDir() const { return dir_.Path("run"); }
  std::string LogPath() const { return dir_.Path("svc.log"); }
  std::string StderrPath() const { return dir_.Path("shim.stderr"); }

  std::vector<std::string> ShimArgs(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command) const {
    std::vector<std::string> args = {REBOUND_BINARY, "shim",   "--name", kName,
                                     "--run-dir",    RunDir(), "--log",  LogPath()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }

  // Starts `args` with stdout and stderr into StderrPath(); the test kills it at the end.
  pid_t Spawn(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, StderrPath().c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    EXPECT_EQ(::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    ::posix_spawn_file_actions_destroy(&actions);
    started_.push_back(pid);
    return pid;
  }

  pid_t StartShim(const std::vector<std::string>& command,
                  const std::vector<std::string>& options = {}) {
    return Spawn(ShimArgs(options, command));
  }

  // The wait status of our child `pid`, or nullopt if it is still running after `timeout`.
  std::optional<int> WaitForExit(pid_t pid, std::chrono::milliseconds timeout = kTimeout) {
    const int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    EXPECT_GE(pid_fd, 0) << "pid " << pid;
    if (pid_fd < 0) {
      return std::nullopt;
    }
    pollfd ready = {pid_fd, POLLIN, 0};
    const int polled = ::poll(&ready, 1, static_cast<int>(timeout.count()));
    ::close(pid_fd);
    int status = 0;
    if (polled != 1 || ::waitpid(pid, &status, 0) != pid) {
      return std::nullopt;
    }
    std::erase(started_, pid);
    return status;
  }

  // Waits for the shim to exit 0 and returns the exit record it left.
  ExitRecord FinishedRecord(pid_t shim) {
    std::optional<int> status = WaitForExit(shim);
    EXPECT_TRUE(status.has_value()) << "shim still running after " << kTimeout.count() << "s";
    if (status) {
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
          << "status " << *status << ", stderr: " << ReadText(StderrPath());
    }
    auto record = ReadExitRecord(fs_, ExitRecordPath(RunDir(), kName));
    EXPECT_TRUE(record.ok()) << record.error().ToString();
    return record.value_or(ExitRecord{});
  }

  ChildRecord WaitForChildRecord() {
    const std::string path = ChildRecordPath(RunDir(), kName);
    EXPECT_TRUE(WaitUntil([&] { return fs_.Exists(path); }, kTimeout));
    auto record = ReadChildRecord(fs_, path);
    EXPECT_TRUE(record.ok()) << record.error().ToString();
    if (record.ok()) {
      child_groups_.push_back(record->child_pid);
    }
    return record.value_or(ChildRecord{});
  }

  bool LogContains(const std::string& text) const {
    return ReadText(LogPath()).find(text) != std::string::npos;
  }
  bool WaitForLog(const std::string& text) {
    return WaitUntil([&] { return LogContains(text); }, kTimeout);
  }

  testing::TempDir dir_;
  FileSystem& fs_ = DefaultFileSystem();
  std::vector<pid_t> started_;
  std::vector<pid_t> child_groups_;
};

}  // namespace rebound::supervise
