#pragma once

// Database: rebound's SQLite file (DATA_DIR/rebound.db), opened, checked and migrated.
//
//   auto db = Database::Open("/var/lib/rebound");   // creates the dir and file if missing
//   auto rows = db->Read([](SqliteConnection& c) { return CountEvents(c); });
//   Status ok = db->IntegrityCheck();               // full check, on request
//
// Open applies the schema migrations this rebound knows, refuses a database written by a
// newer rebound, and runs PRAGMA quick_check: a damaged file is an Error, never a crash.
// WAL mode; the write connection belongs to the GroupCommitWriter; reads use a pool of their
// own connections and never block the writer. An in-memory database (tests) shares one
// connection, serialized by a mutex.
//
// Thread-safe.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_system.h"
#include "store/sqlite.h"

namespace rebound::store {

class Database {
 public:
  // The schema version this build writes (PRAGMA user_version).
  static int SchemaVersion();

  static Result<std::unique_ptr<Database>> Open(const std::string& data_dir,
                                                FileSystem& fs = DefaultFileSystem());
  static Result<std::unique_ptr<Database>> OpenInMemory();

  // Runs `fn` with a read connection. `fn` returns a Result.
  template <typename Fn>
  auto Read(Fn&& fn) -> std::invoke_result_t<Fn&, SqliteConnection&> {
    if (in_memory_) {
      std::lock_guard lock(write_mutex_);
      return fn(*writer_);
    }
    auto reader = BorrowReader();
    if (!reader.ok()) {
      return reader.error();
    }
    auto result = fn(**reader);
    ReturnReader(std::move(*reader));
    return result;
  }

  // PRAGMA integrity_check: every page and index. Corruption is an Error naming the problems.
  Status IntegrityCheck();

  // For the GroupCommitWriter only: the write connection and the mutex it holds while it
  // uses it (which in-memory reads share).
  SqliteConnection& write_connection() { return *writer_; }
  std::mutex& write_mutex() { return write_mutex_; }

  const std::string& path() const { return path_; }
  bool in_memory() const { return in_memory_; }

 private:
  Database(std::string path, bool in_memory, std::unique_ptr<SqliteConnection> writer)
      : path_(std::move(path)), in_memory_(in_memory), writer_(std::move(writer)) {}

  static Result<std::unique_ptr<Database>> Prepare(std::string path, bool in_memory);
  Result<std::unique_ptr<SqliteConnection>> BorrowReader();
  void ReturnReader(std::unique_ptr<SqliteConnection> reader);

  const std::string path_;
  const bool in_memory_;
  std::mutex write_mutex_;
  std::unique_ptr<SqliteConnection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;
};

}  // namespace rebound::store
