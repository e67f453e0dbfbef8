// Durable appends per second and commit latency of the group-commit journal, side by side
// with plain SQLite committing one row per transaction (WAL, synchronous=FULL: the rate
// without group commit) and the raw fdatasync rate of the same disk (the physical ceiling
// for one-fsync-per-write).
//
//   make bench        (or build-bench/bench/store_bench [--dir DIR] [--seconds S] [--writers N])
//
// Each row also reports, per write, the CPU time of the whole process (all threads) and its
// context switches, and the writes per transaction: where the time goes.

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using rebound::store::Store;

struct Figures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  // Where the time goes, per write: CPU of the whole process (all threads, user + system),
  // context switches (voluntary + involuntary), and writes per transaction (0: not known).
  double cpu_us = 0;
  double switches = 0;
  double per_transaction = 0;
  // Commit (transaction) durations on the writer thread: p50, p99, max.
  double commit_p50_ms = 0;
  double commit_p99_ms = 0;
  double commit_max_ms = 0;
};

// Process-wide CPU time and context switches, so that a row can report them per write.
struct Usage {
  double cpu_us = 0;
  double switches = 0;

  static Usage Now() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto us = [](const timeval& t) { return t.tv_sec * 1e6 + static_cast<double>(t.tv_usec); };
    return {us(usage.ru_utime) + us(usage.ru_stime),
            static_cast<double>(usage.ru_nvcsw + usage.ru_nivcsw)};
  }
  void PerWrite(const Usage& start, Figures& figures, double seconds) const {
    const double writes = figures.per_second * seconds;
    if (writes > 0) {
      figures.cpu_us = (cpu_us - start.cpu_us) / writes;
      figures.switches = (switches - start.switches) / writes;
    }
  }
};

Figures Summarize(std::vector<double>& latencies_ms, double seconds) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  if (latencies_ms.empty()) {
    return {};
  }
  auto at = [&](double q) {
    return latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  return {static_cast<double>(latencies_ms.size()) / seconds, at(0.50), at(0.99)};
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

Figures RawFdatasync(const std::string& dir, double seconds) {
  const std::string path = dir + "/fsync.bin";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string row(100, 'r');
  std::vector<double> latencies;
  const Usage start_usage = Usage::Now();
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const auto start = Clock::now();
    if (::write(fd, row.data(), row.size()) < 0 || ::fdatasync(fd) != 0) {
      std::perror("fdatasync");
      break;
    }
    latencies.push_back(Ms(Clock::now() - start));
  }
  ::close(fd);
  Figures figures = Summarize(latencies, seconds);
  Usage::Now().PerWrite(start_usage, figures, seconds);
  return figures;
}

Figures PlainSqlite(const std::string& dir, double seconds) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/plain.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
               "CREATE TABLE t(id INTEGER PRIMARY KEY, data TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(data) VALUES (?1)", -1, &insert, nullptr);
  const std::string row(100, 'p');
  std::vector<double> latencies;
  const Usage start_usage = Usage::Now();
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    const auto start = Clock::now();
    sqlite3_bind_text(insert, 1, row.data(), static_cast<int>(row.size()), SQLITE_STATIC);
    sqlite3_step(insert);  // autocommit: one transaction, one WAL fsync per row
    sqlite3_reset(insert);
    latencies.push_back(Ms(Clock::now() - start));
  }
  Figures figures = Summarize(latencies, seconds);
  Usage::Now().PerWrite(start_usage, figures, seconds);
  figures.per_transaction = 1;
  sqlite3_finalize(insert);
  sqlite3_close(db);
  return figures;
}

// Each writer keeps up to `in_flight` appends outstanding (submit, then wait for the oldest):
// the rate the group-commit engine sustains when callers do not block one write at a time.
Figures GroupCommit(const std::string& dir, int writers, double seconds, size_t in_flight = 1) {
  std::filesystem::remove_all(dir + "/group");
  auto store = std::move(*Store::Open(dir + "/group"));
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> per_thread(static_cast<size_t>(writers));
  std::vector<std::thread> threads;
  const nlohmann::json data = {{"payload", std::string(80, 'g')}};  // ~100-byte row
  std::vector<double> commit_ms;  // written by the writer thread only, read after Close()
  commit_ms.reserve(1 << 20);
  store->writer().AddCommitTimeObserver([&](rebound::Duration elapsed) {
    commit_ms.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
  });
  const Usage start_usage = Usage::Now();
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      std::deque<std::pair<Clock::time_point, std::future<rebound::Result<int64_t>>>> window;
      while (!stop.load(std::memory_order_relaxed) || !window.empty()) {
        if (!stop.load(std::memory_order_relaxed) && window.size() < in_flight) {
          window.emplace_back(
              Clock::now(),
              store->journal().Append({.category = "bench", .kind = "append", .data = data}));
          continue;
        }
        auto [start, future] = std::move(window.front());
        window.pop_front();
        auto seq = future.get();
        if (!seq.ok()) {
          std::fprintf(stderr, "append: %s\n", seq.error().ToString().c_str());
          return;
        }
        per_thread[static_cast<size_t>(t)].push_back(Ms(Clock::now() - start));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& thread : threads) {
    thread.join();
  }
  const Usage end_usage = Usage::Now();
  std::vector<double> all;
  for (auto& latencies : per_thread) {
    all.insert(all.end(), latencies.begin(), latencies.end());
  }
  Figures figures = Summarize(all, seconds);
  end_usage.PerWrite(start_usage, figures, seconds);
  const rebound::store::WriterStats stats = store->writer().stats();
  if (stats.transactions > 0) {
    figures.per_transaction =
        static_cast<double>(stats.writes) / static_cast<double>(stats.transactions);
  }
  store->Close();
  const Figures commits = Summarize(commit_ms, seconds);
  figures.commit_p50_ms = commits.p50_ms;
  figures.commit_p99_ms = commits.p99_ms;
  figures.commit_max_ms = commit_ms.empty() ? 0 : commit_ms.back();  // sorted by Summarize
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/var/tmp";
  double seconds = 3.0;
  int only_writers = 0;  // --writers N: only the group-commit rows with N writers (profiling)
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
    if (std::string(argv[i]) == "--writers") only_writers = std::stoi(argv[i + 1]);
  }
  const std::string work = dir + "/rebound-store-bench-" + std::to_string(::getpid());
  std::filesystem::create_directories(work);

  const Figures fsync = RawFdatasync(work, seconds);
  const Figures plain = PlainSqlite(work, seconds);
  std::printf("store_bench: durable 100-byte appends, %.0f s per row, in %s\n\n", seconds,
              work.c_str());
  std::printf("%-44s %10s %8s %8s %8s %9s %8s %7s\n", "what", "writes/s", "p50 ms", "p99 ms",
              "vs plain", "CPU us/w", "csw/w", "w/txn");
  auto row = [&](const std::string& name, const Figures& f) {
    std::printf("%-44s %10.0f %8.3f %8.3f %7.1fx %9.2f %8.2f %7.1f\n", name.c_str(),
                f.per_second, f.p50_ms, f.p99_ms, f.per_second / plain.per_second, f.cpu_us,
                f.switches, f.per_transaction);
    std::fflush(stdout);
  };
  row("raw write+fdatasync, 1 thread (ceiling)", fsync);
  row("plain SQLite, 1 row/txn, FULL, WAL (baseline)", plain);
  // The disk's fsync latency drifts within a run on a shared machine: each group-commit row
  // is also compared with plain SQLite and fdatasync measured right before it.
  auto group_row = [&](const std::string& name, int writers, size_t in_flight) {
    const Figures near_fsync = RawFdatasync(work, seconds / 3);
    const Figures near_plain = PlainSqlite(work, seconds / 3);
    const Figures group = GroupCommit(work, writers, seconds, in_flight);
    row(name, group);
    std::printf("%-44s p99 = %.1f fsync medians; commits p50 %.3f p99 %.3f max %.3f ms\n", "",
                group.p99_ms / fsync.p50_ms, group.commit_p50_ms, group.commit_p99_ms,
                group.commit_max_ms);
    std::printf("%-44s just before: plain %.0f/s, fsync p50 %.3f ms: %.1fx plain, p99 = %.1f "
                "fsync medians\n",
                "", near_plain.per_second, near_fsync.p50_ms,
                group.per_second / near_plain.per_second, group.p99_ms / near_fsync.p50_ms);
  };
  for (int writers : {1, 8, 64}) {
    if (only_writers == 0 || writers == only_writers) {
      group_row("rebound group commit, " + std::to_string(writers) + " writers", writers, 1);
    }
  }
  if (only_writers == 0 || only_writers == 64) {
    group_row("rebound, 64 writers x 16 appends in flight", 64, 16);
  }
  std::filesystem::remove_all(work);
  return 0;
}
