#include "store/sqlite.h"

#include <sqlite3.h>

#include <mutex>

namespace rebound::store {

Error SqliteError(int code, std::string_view context, sqlite3* db) {
  std::string message =
      std::string(context) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
      return ResourceError(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return CorruptionError(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH:
      return PermissionError(std::move(message));
    case SQLITE_CONSTRAINT:
      return ConflictError(std::move(message));
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
      return ValidationError(std::move(message));
    default:
      return UnknownError(std::move(message));
  }
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::BindInt(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

SqliteStatement& SqliteStatement::BindText(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

SqliteStatement& SqliteStatement::BindOptionalText(int index,
                                                   const std::optional<std::string>& value) {
  return value ? BindText(index, *value) : BindNull(index);
}

Result<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  return SqliteError(rc, std::string("sql \"") + sqlite3_sql(stmt_) + "\"", db_);
}

Status SqliteStatement::StepDone() {
  auto row = Step();
  if (!row.ok()) {
    return row.error();
  }
  if (*row) {
    return UnknownError(std::string("sql \"") + sqlite3_sql(stmt_) + "\" returned a row");
  }
  return OkStatus();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t SqliteStatement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string SqliteStatement::ColumnText(int index) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
  return text == nullptr
             ? std::string()
             : std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, index)));
}

bool SqliteStatement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

namespace {

// SQLite's memory statistics (on by default) take a process-wide mutex around every
// allocation it makes, on every connection: the writer's inserts and the readers' queries
// contend on it, and nothing in rebound reads those statistics. Configured before SQLite
// initializes; if something else in the process initialized it first, it stays as it was.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 bool read_only) {
  ConfigureSqliteOnce();
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Error error = SqliteError(rc, "open database " + path, db);
    sqlite3_close(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  // A reader waiting out a checkpoint, or a writer waiting for another process's lock,
  // waits this long rather than failing at once.
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteConnection>(new SqliteConnection(db, path));
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

void SqliteConnection::ResetCached() {
  for (auto& [sql, statement] : cache_) {
    statement->Reset();
  }
}

Result<SqliteStatement*> SqliteConnection::Cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) {
      return stmt.error();
    }
    it = cache_.emplace(sql, std::make_unique<SqliteStatement>(std::move(*stmt))).first;
  }
  it->second->Reset();
  return it->second.get();
}

Status SqliteConnection::Exec(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    Error error = SqliteError(rc, "sql \"" + text + "\"");
    return Error(error.category(), "sql \"" + text + "\": " + detail);
  }
  return OkStatus();
}

Result<SqliteStatement> SqliteConnection::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(rc, "prepare \"" + std::string(sql) + "\"", db_);
  }
  return SqliteStatement(db_, stmt);
}

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }

int64_t SqliteConnection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

bool SqliteConnection::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<int64_t> SqliteConnection::QueryInt(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) {
    return stmt.error();
  }
  auto row = stmt->Step();
  if (!row.ok()) {
    return row.error();
  }
  if (!*row) {
    return UnknownError("sql \"" + std::string(sql) + "\" returned no row");
  }
  return stmt->ColumnInt(0);
}

}  // namespace rebound::store
