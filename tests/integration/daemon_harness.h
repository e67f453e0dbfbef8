#pragma once

// DaemonHarness: a real `rebound serve` in a temp dir on an ephemeral loopback port, for
// integration tests. Cleans up every process it (or its daemon) started.
//
//   DaemonHarness h;
//   h.Start(R"([services.api]
//   command = ["sleep", "1000"])");
//   int pid = h.WaitForPid("api");
//   ::kill(pid, SIGKILL);
//   h.WaitFor([&] { return h.Service("api")["restarts"] == 1; });

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/file_system.h"
#include "supervise/exit_record.h"
#include "supervise/launcher_shim.h"
#include "supervise/process_info.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace rebound::testing {

inline int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline pid_t SpawnProcess(const std::vector<std::string>& args, const std::string& output) {
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

class DaemonHarness {
 public:
  DaemonHarness() : port_(FreeLoopbackPort()) {}
  ~DaemonHarness() {
    Kill();
    KillServices();
  }

  std::string Config(const std::string& services) const {
    return "[daemon]\ndata_dir = \"" + dir_.Path("data") +
           "\"\nlisten = \"127.0.0.1:" + std::to_string(port_) + "\"\n" +
           (run_dir_.empty() ? "" : "run_dir = \"" + run_dir_ + "\"\n") + "\n" + services;
  }
  // [daemon] run_dir for the next WriteConfig/Start ("" : DATA_DIR/run).
  void SetRunDir(const std::string& run_dir) { run_dir_ = run_dir; }
  std::string RunDir() const { return run_dir_.empty() ? dir_.Path("data/run") : run_dir_; }
  void WriteConfig(const std::string& services) {
    std::ofstream(dir_.Path("rebound.toml")) << Config(services);
  }
  // Starts `rebound serve [serve_args...]` and waits until its API answers.
  pid_t Start(const std::string& services = "", const std::vector<std::string>& serve_args = {}) {
    if (!services.empty()) {
      WriteConfig(services);
    }
    std::vector<std::string> argv = {REBOUND_BINARY, "serve", "--config",
                                     dir_.Path("rebound.toml")};
    argv.insert(argv.end(), serve_args.begin(), serve_args.end());
    daemon_ = SpawnProcess(argv, dir_.Path("daemon.log"));
    WaitUntil([&] { return Get("/v1/services").has_value(); });
    return daemon_;
  }
  void Kill() {
    if (daemon_ > 0) {
      ::kill(daemon_, SIGKILL);
      ::waitpid(daemon_, nullptr, 0);
      daemon_ = -1;
    }
  }
  // SIGTERM, then the daemon's exit status.
  int Terminate() {
    ::kill(daemon_, SIGTERM);
    int status = 0;
    ::waitpid(daemon_, &status, 0);
    daemon_ = -1;
    return status;
  }
  // Every service, shim, job runner and job a daemon of this harness started, whatever
  // happened to the daemon. (Jobs keep their records in DATA_DIR/run whatever run_dir says.)
  void KillServices() {
    for (const std::string& run_dir : {RunDir(), dir_.Path("data/run")}) {
      KillSupervisorsOf(run_dir);
      KillRecordedChildren(run_dir);
    }
  }

  // Each shim and job runner of `run_dir` and what each runs (every child its own process
  // group), found in /proc by command line and parent, since no record may name them: a shim
  // killed with its daemon before it wrote NAME.child, a runner that keeps its records
  // elsewhere. Left alive, a test's `sleep 1000` would outlive it by that much. The supervisor
  // dies first: a shim with --respawn whose service died first would start another instance.
  void KillSupervisorsOf(const std::string& run_dir) {
    for (int supervisor : Pids()) {
      const std::string command = CommandLineOf(supervisor);
      const bool ours = command.find(" runner --run-dir " + run_dir + " ") != std::string::npos ||
                        (command.find(" shim --name ") != std::string::npos &&
                         command.find(" --run-dir " + run_dir + " ") != std::string::npos);
      if (!ours) {
        continue;
      }
      std::vector<int> children;
      for (int child : Pids()) {
        if (ParentPidOf(child) == supervisor) {
          children.push_back(child);
        }
      }
      ::kill(supervisor, SIGKILL);
      for (int child : children) {
        ::kill(-child, SIGKILL);
      }
    }
  }

  void KillRecordedChildren(const std::string& run_dir) {
    auto names = DefaultFileSystem().ListDir(run_dir);
    if (!names.ok()) {
      return;
    }
    for (const std::string& file : *names) {
      if (!file.ends_with(".child")) {
        continue;
      }
      auto child = supervise::ReadChildRecord(DefaultFileSystem(), run_dir + "/" + file);
      if (!child.ok()) {
        continue;
      }
      // Only processes that are still the recorded ones: a pid of a process that died since
      // may be another test's by now.
      const std::string name = file.substr(0, file.size() - std::string(".child").size());
      if (supervise::IsShimFor(DefaultFileSystem(), child->shim_pid, name, run_dir)) {
        ::kill(child->shim_pid, SIGKILL);  // the shim first, as above
      }
      auto start_time = supervise::ProcessStartTime(child->child_pid);
      if (start_time.ok() && *start_time == child->child_start_time) {
        ::kill(-child->child_pid, SIGKILL);
      }
    }
  }

  std::optional<nlohmann::json> Get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::milliseconds(200));
    auto response = client.Get(path);
    if (!response) {
      return std::nullopt;
    }
    return nlohmann::json::parse(response->body, nullptr, false);
  }
  int Post(const std::string& path) { return PostJson(path, "").first; }
  // The status and JSON answer of an authenticated POST; {-1, null} without an answer.
  std::pair<int, nlohmann::json> PostJson(const std::string& path, const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    return Answer(client.Post(path, AuthHeaders(), body, "application/json"));
  }
  // The same for an authenticated GET.
  std::pair<int, nlohmann::json> GetJson(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return Answer(client.Get(path, AuthHeaders()));
  }
  nlohmann::json Service(const std::string& name) {
    auto all = Get("/v1/services");
    if (all && all->contains("services")) {
      for (const auto& service : (*all)["services"]) {
        if (service["name"] == name) {
          return service;
        }
      }
    }
    return nlohmann::json::object();
  }
  int Pid(const std::string& name) {
    auto service = Service(name);
    return service.contains("pid") && service["pid"].is_number() ? service["pid"].get<int>() : 0;
  }
  int WaitForPid(const std::string& name, int not_this = 0) {
    int pid = 0;
    WaitUntil([&] {
      pid = Pid(name);
      return pid != 0 && pid != not_this && Service(name)["state"] == "running";
    });
    return pid;
  }
  std::string State(const std::string& name) { return Service(name).value("state", ""); }
  std::string DaemonLog() const {
    std::ifstream in(dir_.Path("daemon.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  const TempDir& dir() const { return dir_; }
  int port() const { return port_; }
  pid_t daemon_pid() const { return daemon_; }

 private:
  static std::vector<int> Pids() {
    std::vector<int> pids;
    for (const std::string& entry : DefaultFileSystem().ListDir("/proc").value_or({})) {
      if (!entry.empty() && std::all_of(entry.begin(), entry.end(), ::isdigit)) {
        pids.push_back(std::stoi(entry));
      }
    }
    return pids;
  }
  // /proc/PID/cmdline with its NULs as spaces ("" if gone).
  static std::string CommandLineOf(int pid) {
    std::string text =
        DefaultFileSystem().ReadFile("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
    std::replace(text.begin(), text.end(), '\0', ' ');
    return text;
  }
  static int ParentPidOf(int pid) {
    const std::string stat =
        DefaultFileSystem().ReadFile("/proc/" + std::to_string(pid) + "/stat").value_or("");
    const size_t paren = stat.rfind(')');
    int parent = 0;
    if (paren != std::string::npos && paren + 4 < stat.size()) {
      parent = std::atoi(stat.c_str() + paren + 4);  // ") S PPID ..."
    }
    return parent;
  }

  httplib::Headers AuthHeaders() const {
    auto token = DefaultFileSystem().ReadFile(dir_.Path("data/token"));
    return {{"Authorization", "Bearer " + token.value_or("")}};
  }
  static std::pair<int, nlohmann::json> Answer(const httplib::Result& response) {
    if (!response) {
      return {-1, nullptr};
    }
    return {response->status, nlohmann::json::parse(response->body, nullptr, false)};
  }

  TempDir dir_;
  int port_;
  pid_t daemon_ = -1;
  std::string run_dir_;
};

inline bool ProcessAlive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

}  // namespace rebound::testing
