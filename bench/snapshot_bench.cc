// Snapshot capture latency: rebound's capture (read module states from SQLite, redact,
// serialize, write the checksummed recovery.json atomically, commit it through libgit2 with
// fsync on) side by side with the git CLI committing the same file (`git add` + `git commit`,
// default settings, and with core.fsync=all so both sides make it durable).
//
//   make bench        (or build-bench/bench/snapshot_bench [--dir DIR] [--runs N])

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/clock.h"
#include "snapshot/git_store.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"

namespace {

using Steady = std::chrono::steady_clock;
using namespace rebound;

struct Figures {
  double p50_ms = 0;
  double p99_ms = 0;
};

Figures Summarize(std::vector<double> latencies_ms) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) {
    return latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  return {at(0.50), at(0.99)};
}

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A module document of about `bytes` bytes whose content changes with `round`, so no commit
// is deduplicated and no blob compresses to nothing.
nlohmann::json Document(size_t bytes, int round) {
  nlohmann::json items = nlohmann::json::array();
  uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(round + 1);
  size_t size = 0;
  while (size < bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const std::string value = std::to_string(x) + "-" + std::to_string(x * 31);
    items.push_back(value);
    size += value.size() + 4;
  }
  return {{"round", round}, {"items", items}};
}

Figures Rebound(const std::string& dir, size_t bytes, int runs) {
  std::filesystem::remove_all(dir);
  auto store = store::Store::Open(dir);
  auto git = snapshot::GitStore::Open(dir + "/snapshots");
  if (!store.ok() || !git.ok()) {
    std::fprintf(stderr, "cannot open %s\n", dir.c_str());
    std::exit(1);
  }
  snapshot::Snapshotter snapshots(**git, (*store)->states(), DefaultFileSystem(), DefaultClock(),
                                  {.document_path = dir + "/recovery.json"});
  std::vector<double> latencies;
  for (int round = 0; round < runs; ++round) {
    if (!(*store)->states().Put("bench", Document(bytes, round), std::nullopt).get().ok()) {
      std::exit(1);
    }
    const auto start = Steady::now();
    auto taken = snapshots.Capture({{"api", {.state = "running"}}}, "daemon", "bench");
    latencies.push_back(Ms(Steady::now() - start));
    if (!taken.ok()) {
      std::fprintf(stderr, "capture: %s\n", taken.error().message().c_str());
      std::exit(1);
    }
  }
  return Summarize(latencies);
}

Figures GitCli(const std::string& dir, size_t bytes, int runs, const std::string& config) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string git = "git -C '" + dir + "' -c user.name=bench -c user.email=b@b " + config;
  if (std::system((git + " init -q").c_str()) != 0) {
    std::exit(1);
  }
  std::vector<double> latencies;
  for (int round = 0; round < runs; ++round) {
    std::ofstream(dir + "/recovery.json") << Document(bytes, round).dump(2);
    const auto start = Steady::now();
    const std::string command = git + " add recovery.json && " + git + " commit -q -m bench";
    if (std::system(command.c_str()) != 0) {
      std::exit(1);
    }
    latencies.push_back(Ms(Steady::now() - start));
  }
  return Summarize(latencies);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "snapshot-bench.tmp";
  int runs = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--dir") {
      dir = argv[i + 1];
    } else if (flag == "--runs") {
      runs = std::atoi(argv[i + 1]);
    }
  }
  std::printf("snapshot capture latency, %d runs each, in %s\n", runs, dir.c_str());
  std::printf("%-8s  %-40s  %9s  %9s\n", "size", "method", "p50 ms", "p99 ms");
  for (size_t bytes : {size_t{10 * 1024}, size_t{1024 * 1024}}) {
    const std::string size = bytes < 1024 * 1024 ? "10 KB" : "1 MB";
    const Figures ours = Rebound(dir + "/rebound", bytes, runs);
    const Figures cli = GitCli(dir + "/git", bytes, runs, "");
    const Figures cli_fsync = GitCli(dir + "/git-fsync", bytes, runs, "-c core.fsync=all");
    std::printf("%-8s  %-40s  %9.2f  %9.2f\n", size.c_str(), "rebound capture (libgit2, fsync)",
                ours.p50_ms, ours.p99_ms);
    std::printf("%-8s  %-40s  %9.2f  %9.2f\n", size.c_str(), "git add + git commit (default)",
                cli.p50_ms, cli.p99_ms);
    std::printf("%-8s  %-40s  %9.2f  %9.2f\n", size.c_str(),
                "git add + git commit (core.fsync=all)", cli_fsync.p50_ms, cli_fsync.p99_ms);
    std::printf("%-8s  speed-up vs git CLI: %.1fx (default), %.1fx (fsync)\n", size.c_str(),
                cli.p50_ms / ours.p50_ms, cli_fsync.p50_ms / ours.p50_ms);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
