#pragma once

// A thin RAII layer over the SQLite C API: the only code in rebound that calls sqlite3_*.
//
//   auto db = SqliteConnection::Open("/data/rebound.db", /*read_only=*/false);
//   REBOUND_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
//   auto stmt = db->Prepare("INSERT INTO events(kind) VALUES (?1)");
//   stmt->BindText(1, "started");
//   REBOUND_RETURN_IF_ERROR(stmt->StepDone());
//
// SQLite result codes become Errors once, here: SQLITE_FULL -> resource, SQLITE_BUSY and
// SQLITE_LOCKED -> resource (retryable), SQLITE_CORRUPT and SQLITE_NOTADB -> corruption,
// SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN -> permission, SQLITE_CONSTRAINT -> conflict.
//
// A connection is used by one thread at a time (the caller serializes).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace rebound::store {

Error SqliteError(int code, std::string_view context, sqlite3* db = nullptr);

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement();

  SqliteStatement& BindInt(int index, int64_t value);
  SqliteStatement& BindText(int index, std::string_view value);
  SqliteStatement& BindNull(int index);
  SqliteStatement& BindOptionalText(int index, const std::optional<std::string>& value);

  // A row is ready (true), or the statement is done (false).
  Result<bool> Step();
  // Runs to completion; a returned row is an error.
  Status StepDone();
  // Ready for another Step with new bindings.
  void Reset();

  int64_t ColumnInt(int index) const;
  std::string ColumnText(int index) const;
  bool ColumnIsNull(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteConnection {
 public:
  // `path` may be ":memory:"-style URI ("file:name?mode=memory&cache=shared").
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool read_only);
  ~SqliteConnection();

  Status Exec(std::string_view sql);
  Result<SqliteStatement> Prepare(std::string_view sql);
  // A statement prepared once and kept for the connection's lifetime, handed out reset and
  // unbound: for hot paths. REQUIRES: not in use by an enclosing caller.
  Result<SqliteStatement*> Cached(const std::string& sql);
  // Resets every cached statement. A SELECT left mid-step keeps a read transaction open on
  // this connection, and in WAL mode that stops the log from ever restarting: the -wal file
  // then grows with every commit. The writer calls this after each transaction.
  void ResetCached();
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  int64_t LastInsertRowId() const;
  // False once SQLite has rolled a transaction back by itself (after SQLITE_FULL, IOERR...).
  bool InTransaction() const;
  // The single integer a query such as "PRAGMA user_version" returns.
  Result<int64_t> QueryInt(std::string_view sql);
  const std::string& path() const { return path_; }

 private:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

}  // namespace rebound::store
