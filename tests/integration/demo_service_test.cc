// The quickstart's demo service as a real process: it must answer, crash, hang, slow down
// and exit the way the quickstart tells users it does.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/listen_socket.h"

extern char** environ;

namespace rebound::testing {
namespace {

using namespace std::chrono_literals;

// One demo_service process on an ephemeral port, killed at the end of the test if needed.
class DemoProcess {
 public:
  explicit DemoProcess(std::vector<std::string> args = {"0"}) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    args.insert(args.begin(), DEMO_SERVICE_PATH);
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    stdout_fd_ = pipe_fds[0];
  }

  ~DemoProcess() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(stdout_fd_);
  }

  // The next line of stdout, or nullopt if none arrives within `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (size_t newline = buffered_.find('\n'); newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd readable{.fd = stdout_fd_, .events = POLLIN, .revents = 0};
      if (left <= 0ms || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        return std::nullopt;
      }
      char chunk[512];
      const ssize_t n = ::read(stdout_fd_, chunk, sizeof(chunk));
      if (n <= 0) {
        return std::nullopt;
      }
      buffered_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Reads the "listening on 127.0.0.1:PORT" line.
  int Port() {
    std::optional<std::string> line = ReadLine();
    const std::string prefix = "demo_service: listening on 127.0.0.1:";
    if (!line || !line->starts_with(prefix)) {
      ADD_FAILURE() << "no listening line, got: " << line.value_or("(nothing)");
      return -1;
    }
    return std::stoi(line->substr(prefix.size()));
  }

  // The exit status once the process ends, or nullopt if it still runs after `timeout`.
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout = 5000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_status_ && std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = status;
      } else {
        std::this_thread::sleep_for(10ms);  // a real process: there is no event to wait on
      }
    }
    return exit_status_;
  }

  void Signal(int signal_number) { ::kill(pid_, signal_number); }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
  std::optional<int> exit_status_;
};

httplib::Client ClientFor(int port, std::chrono::milliseconds read_timeout = 5000ms) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(read_timeout);
  client.set_connection_timeout(2s);
  return client;
}

bool ExitedWith(std::optional<int> status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

TEST(DemoServiceTest, HealthAndWorkAnswer) {
  DemoProcess demo;
  httplib::Client client = ClientFor(demo.Port());
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  auto work = client.Get("/work");
  ASSERT_TRUE(work);
  EXPECT_EQ(work->status, 200);
  EXPECT_EQ(work->body, R"({"result":1})");
  EXPECT_EQ(demo.ReadLine(), "demo_service: GET /health 200");
}

TEST(DemoServiceTest, CrashAnswersThenExitsWithCode1) {
  DemoProcess demo;
  httplib::Client client = ClientFor(demo.Port());
  auto crash = client.Post("/crash");
  ASSERT_TRUE(crash);
  EXPECT_EQ(crash->status, 200);
  EXPECT_TRUE(ExitedWith(demo.WaitForExit(), 1));
}

TEST(DemoServiceTest, HangMakesHealthTimeOutAndSigtermStillExits0) {
  DemoProcess demo;
  const int port = demo.Port();
  httplib::Client control = ClientFor(port);
  auto hang = control.Post("/hang");
  ASSERT_TRUE(hang);
  EXPECT_EQ(hang->status, 200);
  httplib::Client probe = ClientFor(port, 300ms);
  auto health = probe.Get("/health");
  EXPECT_FALSE(health);
  EXPECT_EQ(health.error(), httplib::Error::Read);
  demo.Signal(SIGTERM);
  EXPECT_TRUE(ExitedWith(demo.WaitForExit(10000ms), 0));
}

TEST(DemoServiceTest, SlowDelaysEveryLaterResponse) {
  DemoProcess demo;
  httplib::Client client = ClientFor(demo.Port());
  auto slow = client.Post("/slow?ms=300");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->body, R"({"delay_ms":300})");
  const auto started = std::chrono::steady_clock::now();
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
}

TEST(DemoServiceTest, SlowRejectsABadDelay) {
  DemoProcess demo;
  httplib::Client client = ClientFor(demo.Port());
  for (const char* path : {"/slow", "/slow?ms=-1", "/slow?ms=abc", "/slow?ms=600001"}) {
    auto result = client.Post(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 400) << path;
  }
}

TEST(DemoServiceTest, SigtermExits0AfterLoggingIt) {
  DemoProcess demo;
  demo.Port();
  demo.Signal(SIGTERM);
  EXPECT_EQ(demo.ReadLine(), "demo_service: received SIGTERM, shutting down");
  EXPECT_TRUE(ExitedWith(demo.WaitForExit(), 0));
}

TEST(DemoServiceTest, BadPortIsAUsageError) {
  DemoProcess bad_port({"99999"});
  EXPECT_TRUE(ExitedWith(bad_port.WaitForExit(), 2));
}

}  // namespace
}  // namespace rebound::testing

namespace rebound::testing {
namespace {

TEST(DemoServiceTest, BusyPortExits1) {
  auto taken = api::ListeningSocket::Open("127.0.0.1", 0, 4);
  ASSERT_TRUE(taken.ok());
  DemoProcess demo({std::to_string(taken->port())});
  EXPECT_TRUE(ExitedWith(demo.WaitForExit(), 1));
}

}  // namespace
}  // namespace rebound::testing
