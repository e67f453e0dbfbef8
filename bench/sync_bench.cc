// Cost of one sync round (store/sync_service.h) over N modules whose application side is in
// process, on a real on-disk store (WAL, synchronous=FULL): a quiet round (every document
// equal: reads only) and a round in which every module moves to the store (N compare-and-set
// writes). Side by side: N plain SQLite FULL commits of one row each, the cost of the same
// writes without group commit.
//
//   build-bench/bench/sync_bench [--dir DIR] [--modules N] [--rounds R]

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "store/store.h"
#include "store/sync_service.h"

namespace {

using BenchClock = std::chrono::steady_clock;
using rebound::store::MemoryDocument;
using rebound::store::SyncEndpoints;

double ElapsedMs(BenchClock::time_point start) {
  return std::chrono::duration<double, std::milli>(BenchClock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// N one-row FULL commits into a fresh SQLite WAL database: the writes of a round that moved
// N modules, one transaction each.
double PlainSqliteMs(const std::string& dir, int modules) {
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/plain.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
               "CREATE TABLE IF NOT EXISTS s(k TEXT PRIMARY KEY, v TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* put = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO s VALUES(?, ?)", -1, &put, nullptr);
  const std::string value(100, 'v');
  const auto start = BenchClock::now();
  for (int i = 0; i < modules; ++i) {
    const std::string key = "m" + std::to_string(i);
    sqlite3_bind_text(put, 1, key.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(put, 2, value.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(put);
    sqlite3_reset(put);
  }
  const double ms = ElapsedMs(start);
  sqlite3_finalize(put);
  sqlite3_close(db);
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "sync-bench.tmp";
  int modules = 100;
  int rounds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    if (std::strcmp(argv[i], "--modules") == 0) modules = std::stoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::stoi(argv[i + 1]);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/store");
  auto store = rebound::store::Store::Open(dir + "/store");
  if (!store.ok()) {
    std::fprintf(stderr, "sync_bench: %s\n", store.error().message().c_str());
    return 1;
  }
  rebound::store::SyncService sync((*store)->states(), rebound::DefaultClock(),
                                   rebound::store::SyncStrategy::kMemoryWins);
  std::vector<nlohmann::json> documents(modules);
  for (int i = 0; i < modules; ++i) {
    documents[i] = {{"model", "gpt-4"}, {"n", 0}, {"padding", std::string(60, 'p')}};
    sync.Register(
        "m" + std::to_string(i),
        SyncEndpoints{.read = [&documents, i]() -> rebound::Result<MemoryDocument> {
                        return MemoryDocument{documents[i], std::nullopt};
                      },
                      .write = [](const nlohmann::json&) { return rebound::OkStatus(); }});
  }
  (void)sync.SyncOnce();  // every module stored once
  std::vector<double> quiet_ms;
  std::vector<double> moved_ms;
  for (int round = 1; round <= rounds; ++round) {
    auto start = BenchClock::now();
    const auto quiet = sync.SyncOnce();
    quiet_ms.push_back(ElapsedMs(start));
    for (auto& document : documents) {
      document["n"] = round;
    }
    start = BenchClock::now();
    const auto moved = sync.SyncOnce();
    moved_ms.push_back(ElapsedMs(start));
    if (quiet.Count(rebound::store::SyncDirection::kUnchanged) != modules ||
        moved.Count(rebound::store::SyncDirection::kToStore) != modules) {
      std::fprintf(stderr, "sync_bench: a round did not do what was expected\n");
      return 1;
    }
  }
  std::vector<double> plain_ms;
  for (int round = 0; round < std::min(rounds, 5); ++round) {
    plain_ms.push_back(PlainSqliteMs(dir, modules));
  }
  std::printf("sync round over %d modules, median of %d rounds\n", modules, rounds);
  std::printf("  quiet round (all equal)                 %8.2f ms\n", Median(quiet_ms));
  std::printf("  every module moved to the store          %8.2f ms\n", Median(moved_ms));
  std::printf("  baseline: %d plain SQLite FULL commits   %8.2f ms\n", modules, Median(plain_ms));
  std::filesystem::remove_all(dir);
  return 0;
}
