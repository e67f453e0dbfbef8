// Durable jobs, end to end against a real daemon (docs/benchmarks.md):
//   1. durable submits per second over HTTP from many keep-alive clients (each answer comes
//      after the group commit), into a queue that starts nothing, so only submitting is timed;
//   2. completed /bin/true jobs per second, submit to success, with the queue's concurrency;
//   3. the baseline: raw posix_spawn + waitpid of /bin/true with the same concurrency.
//
//   jobs_bench build-bench/src/rebound [--clients 32] [--seconds 3] [--jobs 2000]
//              [--concurrency 8] [--runner shared|per-job] [--dir /tmp] [--echo no|yes] [--cpu 1]
//
// --cpu 1 also prints the daemon's CPU time per completed job during phase 2, thread by
// thread (from /proc/PID/task/TID/schedstat: nanoseconds on the CPU, and how many times each
// thread was scheduled, about its wake-ups), and its group commits and store writes per job
// (from /metrics).

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Options {
  std::string rebound;
  int clients = 32;
  double seconds = 3;
  int jobs = 2000;
  int concurrency = 8;
  std::string runner = "shared";  // [jobs] runner; the daemon's default
  std::string parent_dir = "/tmp";  // where the daemon's temp data dir goes (see docs/benchmarks.md)
  // Jobs (and the baseline) run `/bin/echo job` instead of `/bin/true`: each job then has
  // output, so its log file is created (the baseline's output goes to /dev/null).
  bool echo = false;
  bool cpu = false;  // print the daemon's CPU per job, by thread

  std::vector<std::string> Command() const {
    return echo ? std::vector<std::string>{"/bin/echo", "job"} : std::vector<std::string>{"/bin/true"};
  }
};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& output) {
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
  ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

class Daemon {
 public:
  Daemon(const Options& options, int port) : port_(port) {
    std::string pattern = options.parent_dir + "/rebound-jobs-bench-XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
    std::ofstream(dir_ + "/rebound.toml")
        << "[daemon]\ndata_dir = \"" << dir_ << "/data\"\nlisten = \"127.0.0.1:" << port
        << "\"\n\n[jobs]\nrunner = \"" << options.runner
        << "\"\n\n[queues.hold]\nconcurrency = 1\nrate = \"1/h\"\n\n[queues.run]\nconcurrency = "
        << options.concurrency << "\n\n[services.idle]\ncommand = [\"sleep\", \"1000\"]\n";
    pid_ =
        Spawn({options.rebound, "serve", "--config", dir_ + "/rebound.toml"}, dir_ + "/daemon.log");
    for (int i = 0; i < 500 && !Get("/v1/services"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::ifstream(dir_ + "/data/token") >> token_;
  }
  ~Daemon() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(dir_);
  }
  std::optional<json> Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Get(path);
    return response ? std::optional(json::parse(response->body, nullptr, false)) : std::nullopt;
  }
  int64_t Succeeded() const {
    auto health = Get("/health");
    return health ? (*health)["components"]["jobs"]["by_state"].value("succeeded", int64_t{0}) : 0;
  }
  // A sample of /metrics (0 when absent).
  double Metric(const std::string& name) const {
    httplib::Client client("127.0.0.1", port_);
    auto response = client.Get("/metrics");
    std::istringstream lines(response ? response->body : "");
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(name + " ")) {
        return std::stod(line.substr(name.size() + 1));
      }
    }
    return 0;
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& token() const { return token_; }

 private:
  int port_;
  std::string dir_;
  std::string token_;
  pid_t pid_ = -1;
};

// Each client submits `body` until `stop` (or `quota` in all); returns acknowledged submits.
int64_t SubmitFromClients(const Daemon& daemon, int clients, const json& body,
                          const std::function<bool(int64_t)>& stop) {
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> claimed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", daemon.port());
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);  // else Nagle holds the body back for a delayed ACK (40 ms)
      const httplib::Headers headers = {{"Authorization", "Bearer " + daemon.token()}};
      const std::string text = body.dump();
      while (!stop(claimed++)) {
        auto response = client.Post("/v1/jobs", headers, text, "application/json");
        if (response && response->status == 201) {
          ++acknowledged;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  return acknowledged;
}

double RawSpawnRate(const std::vector<std::string>& command, int jobs, int concurrency) {
  std::vector<char*> argv;
  for (const std::string& arg : command) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t to_null;
  posix_spawn_file_actions_init(&to_null);
  posix_spawn_file_actions_addopen(&to_null, 1, "/dev/null", O_WRONLY, 0);
  const auto start = Clock::now();
  int running = 0;
  for (int started = 0; started < jobs || running > 0;) {
    if (started < jobs && running < concurrency) {
      pid_t pid = -1;
      ::posix_spawn(&pid, argv[0], &to_null, nullptr, argv.data(), environ);
      ++started;
      ++running;
      continue;
    }
    ::wait(nullptr);
    --running;
  }
  const double rate = jobs / Since(start);
  posix_spawn_file_actions_destroy(&to_null);
  return rate;
}

struct ThreadUse {
  int64_t nanos = 0;  // on the CPU
  int64_t runs = 0;   // times scheduled onto it (about its wake-ups)
};

// What each thread of `pid` has used, by thread id (/proc/PID/task/TID/schedstat).
std::map<int, ThreadUse> ThreadCpu(pid_t pid) {
  std::map<int, ThreadUse> used;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    ThreadUse use;
    int64_t waited = 0;
    std::ifstream(entry.path() / "schedstat") >> use.nanos >> waited >> use.runs;
    used[std::stoi(entry.path().filename())] = use;
  }
  return used;
}

// The daemon's CPU per job between two samples: its main thread (the reactor), the busiest
// other threads one by one (the store's writer first), the rest summed (mostly HTTP workers).
void PrintCpuPerJob(pid_t pid, const std::map<int, ThreadUse>& before,
                    const std::map<int, ThreadUse>& after, int64_t jobs) {
  struct Row {
    double us;
    double runs;
    int tid;
  };
  std::vector<Row> rows;
  double total = 0;
  for (const auto& [tid, use] : after) {
    const ThreadUse start = before.contains(tid) ? before.at(tid) : ThreadUse{};
    rows.push_back({(use.nanos - start.nanos) / 1e3 / jobs,
                    static_cast<double>(use.runs - start.runs) / jobs, tid});
    total += rows.back().us;
  }
  // The main thread first, then by CPU.
  std::sort(rows.begin(), rows.end(), [pid](const Row& a, const Row& b) {
    return (a.tid == pid) != (b.tid == pid) ? a.tid == pid : a.us > b.us;
  });
  Row rest{0, 0, 0};
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i < 4) {
      std::printf("  %-26s %8.1f us CPU, %5.2f runs per job\n",
                  i == 0 ? "daemon main (reactor):"
                         : ("daemon thread #" + std::to_string(i) + " by CPU:").c_str(),
                  rows[i].us, rows[i].runs);
    } else {
      rest.us += rows[i].us;
      rest.runs += rows[i].runs;
    }
  }
  std::printf(
      "  %-26s %8.1f us CPU, %5.2f runs per job\n",
      ("daemon, " + std::to_string(rows.size() > 4 ? rows.size() - 4 : 0) + " others:").c_str(),
      rest.us, rest.runs);
  std::printf("  %-26s %8.1f us CPU per job\n", "daemon, all threads:", total);
}

// An ephemeral loopback port the kernel picks, free when this returns.
int FreeLoopbackPort() {
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

Options Parse(int argc, char** argv) {
  Options options{.rebound = argc > 1 ? argv[1] : "build-bench/src/rebound"};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--clients") options.clients = std::stoi(argv[i + 1]);
    if (flag == "--seconds") options.seconds = std::stod(argv[i + 1]);
    if (flag == "--jobs") options.jobs = std::stoi(argv[i + 1]);
    if (flag == "--concurrency") options.concurrency = std::stoi(argv[i + 1]);
    if (flag == "--runner") options.runner = argv[i + 1];
    if (flag == "--dir") options.parent_dir = argv[i + 1];
    if (flag == "--echo") options.echo = std::string(argv[i + 1]) == "yes";
    if (flag == "--cpu") options.cpu = std::string(argv[i + 1]) == "1";
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = Parse(argc, argv);
  Daemon daemon(options, FreeLoopbackPort());
  const auto submit_start = Clock::now();
  const int64_t submits =
      SubmitFromClients(daemon, options.clients, {{"command", options.Command()}, {"queue", "hold"}},
                        [&](int64_t) { return Since(submit_start) >= options.seconds; });
  const double submit_rate = submits / Since(submit_start);

  const int64_t before = daemon.Succeeded();
  const double commits_before = daemon.Metric("rebound_store_commit_duration_seconds_count");
  const double writes_before = daemon.Metric("rebound_store_writes_total");
  const std::map<int, ThreadUse> cpu_before = ThreadCpu(daemon.pid());
  const auto run_start = Clock::now();
  SubmitFromClients(daemon, options.clients, {{"command", options.Command()}, {"queue", "run"}},
                    [&](int64_t claimed) { return claimed >= options.jobs; });
  while (daemon.Succeeded() < before + options.jobs && Since(run_start) < 120) {
    // /health reads the job counts kept in memory: polling every 5 ms costs little, and the end
    // is seen within 5 ms (at 50 ms, up to 3 % of a 1.5 s run went uncounted).
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int64_t completed = daemon.Succeeded() - before;
  const double end_to_end_rate = completed / Since(run_start);
  const std::map<int, ThreadUse> cpu_after = ThreadCpu(daemon.pid());
  const double commits =
      daemon.Metric("rebound_store_commit_duration_seconds_count") - commits_before;
  const double writes = daemon.Metric("rebound_store_writes_total") - writes_before;
  const double raw_rate = RawSpawnRate(options.Command(), options.jobs, options.concurrency);
  const std::string what = options.echo ? "/bin/echo" : "/bin/true";

  std::printf("durable submits over HTTP (%d clients, %.0f s): %10.0f /s  (%lld acknowledged)\n",
              options.clients, options.seconds, submit_rate, static_cast<long long>(submits));
  std::printf("completed %-9s jobs (%d, concurrency %d):   %10.0f /s\n", what.c_str(),
              options.jobs, options.concurrency, end_to_end_rate);
  std::printf("raw posix_spawn+wait of %-9s (same):          %10.0f /s\n", what.c_str(),
              raw_rate);
  std::printf("end to end / raw:                                  %10.1f %%\n",
              100.0 * end_to_end_rate / raw_rate);
  if (options.cpu && completed > 0) {
    std::printf("phase 2, per completed job: %.2f group commits, %.2f store writes\n",
                commits / completed, writes / completed);
    PrintCpuPerJob(daemon.pid(), cpu_before, cpu_after, completed);
  }
  return 0;
}
