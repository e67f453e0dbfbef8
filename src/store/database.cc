#include "store/database.h"

#include "store/schema.h"

namespace rebound::store {
namespace {

constexpr const char* kFileName = "rebound.db";

// Every pending migration in one transaction, committed with synchronous=NORMAL: in WAL mode
// that commit writes the log without syncing it, and the first FULL commit after it (the
// store's first acknowledged write) syncs the whole log, migrations included. A crash before
// that loses at most the migrations, never half of them (WAL frames are checksummed), and
// they run again at the next start: nothing acknowledged ever depends on them. A new data
// directory so starts without the four syncs (log header, directory, two commits) that a
// transaction per migration under FULL took before the first service could start.
Status ApplyMigrations(SqliteConnection& db) {
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version.ok()) {
    return version.error();
  }
  const auto& migrations = Migrations();
  const int64_t known = static_cast<int64_t>(migrations.size());
  if (*version > known) {
    return ValidationError("database " + db.path() + " has schema version " +
                           std::to_string(*version) + ", newer than this rebound supports (" +
                           std::to_string(known) +
                           "); run the rebound version that wrote it, or a newer one");
  }
  if (*version == known) {
    return OkStatus();
  }
  REBOUND_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=NORMAL"));
  REBOUND_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  for (int64_t next = *version; next < known; ++next) {
    Status applied = db.Exec(migrations[static_cast<size_t>(next)]);
    if (!applied.ok()) {
      (void)db.Exec("ROLLBACK");
      (void)db.Exec("PRAGMA synchronous=FULL");
      return applied.error().WithContext("migration to schema version " + std::to_string(next + 1));
    }
  }
  Status committed = db.Exec("PRAGMA user_version = " + std::to_string(known));
  if (committed.ok()) {
    committed = db.Exec("COMMIT");
  }
  if (!committed.ok()) {
    (void)db.Exec("ROLLBACK");
  }
  // Every later commit is durable when it returns (Prepare's contract), whatever happened here.
  REBOUND_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL"));
  return committed;
}

Status QuickCheck(SqliteConnection& db) {
  auto stmt = db.Prepare("PRAGMA quick_check");
  if (!stmt.ok()) {
    return stmt.error();
  }
  auto row = stmt->Step();
  if (!row.ok()) {
    return row.error();
  }
  if (*row && stmt->ColumnText(0) != "ok") {
    return CorruptionError("database " + db.path() +
                           " failed its quick check: " + stmt->ColumnText(0) +
                           "; restore the data directory from a snapshot or backup");
  }
  return OkStatus();
}

// SQLite answers the mode it actually chose: on a file system without shared memory it stays
// in rollback-journal mode, where readers block the writer. Refuse that rather than degrade.
Status RequireWal(SqliteConnection& db, bool in_memory) {
  auto stmt = db.Prepare("PRAGMA journal_mode=WAL");
  if (!stmt.ok()) {
    return stmt.error();
  }
  auto row = stmt->Step();
  if (!row.ok()) {
    return row.error();
  }
  const std::string mode = *row ? stmt->ColumnText(0) : "";
  if (mode != "wal" && !(in_memory && mode == "memory")) {
    return ResourceError("database " + db.path() +
                         " cannot use write-ahead logging (SQLite chose \"" + mode +
                         "\"); put the data directory on a local file system");
  }
  return OkStatus();
}

}  // namespace

int Database::SchemaVersion() { return static_cast<int>(Migrations().size()); }

Result<std::unique_ptr<Database>> Database::Open(const std::string& data_dir, FileSystem& fs) {
  Status created = fs.CreateDirs(data_dir);
  if (!created.ok()) {
    return created.error().WithContext("data directory");
  }
  auto database = Prepare(data_dir + "/" + kFileName, /*in_memory=*/false);
  if (!database.ok()) {
    return database.error().WithContext("store at " + data_dir);
  }
  return database;
}

Result<std::unique_ptr<Database>> Database::OpenInMemory() {
  return Prepare(":memory:", /*in_memory=*/true);
}

Result<std::unique_ptr<Database>> Database::Prepare(std::string path, bool in_memory) {
  auto writer = SqliteConnection::Open(path, /*read_only=*/false);
  if (!writer.ok()) {
    return writer.error();
  }
  SqliteConnection& db = **writer;
  // Durable commits: WAL with a full fsync of the log at every commit.
  REBOUND_RETURN_IF_ERROR(RequireWal(db, in_memory));
  for (const char* pragma :
       {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"}) {
    REBOUND_RETURN_IF_ERROR(db.Exec(pragma));
  }
  REBOUND_RETURN_IF_ERROR(QuickCheck(db));
  REBOUND_RETURN_IF_ERROR(ApplyMigrations(db));
  return std::unique_ptr<Database>(new Database(std::move(path), in_memory, std::move(*writer)));
}

Result<std::unique_ptr<SqliteConnection>> Database::BorrowReader() {
  {
    std::lock_guard lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
  }
  return SqliteConnection::Open(path_, /*read_only=*/true);
}

void Database::ReturnReader(std::unique_ptr<SqliteConnection> reader) {
  std::lock_guard lock(readers_mutex_);
  if (idle_readers_.size() < 8) {
    idle_readers_.push_back(std::move(reader));
  }
}

Status Database::IntegrityCheck() {
  return Read([this](SqliteConnection& db) -> Status {
    auto stmt = db.Prepare("PRAGMA integrity_check");
    if (!stmt.ok()) {
      return stmt.error();
    }
    std::string problems;
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) {
        return row.error();
      }
      if (!*row) {
        break;
      }
      const std::string line = stmt->ColumnText(0);
      if (line != "ok") {
        problems += problems.empty() ? line : "; " + line;
      }
    }
    if (!problems.empty()) {
      return CorruptionError("database " + path_ + " failed its integrity check: " + problems);
    }
    return OkStatus();
  });
}

}  // namespace rebound::store
