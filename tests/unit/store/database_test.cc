#include "store/database.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "store/schema.h"
#include "store/sqlite.h"
#include "testing/temp_dir.h"

namespace rebound::store {
namespace {

using rebound::testing::TempDir;

TEST(DatabaseTest, FreshDatabaseIsMigratedToTheCurrentSchema) {
  TempDir dir;
  auto db = Database::Open(dir.Path("data"));
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  auto version = (*db)->Read([](SqliteConnection& c) { return c.QueryInt("PRAGMA user_version"); });
  EXPECT_EQ(*version, Database::SchemaVersion());
  auto mode = (*db)->Read([](SqliteConnection& c) -> Result<std::string> {
    auto stmt = c.Prepare("PRAGMA journal_mode");
    (void)stmt->Step();
    return stmt->ColumnText(0);
  });
  EXPECT_EQ(*mode, "wal");
  EXPECT_TRUE((*db)->IntegrityCheck().ok());
}

TEST(DatabaseTest, ReopeningKeepsDataAndSkipsAppliedMigrations) {
  TempDir dir;
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE((*db)
                    ->write_connection()
                    .Exec("INSERT INTO events(time_ms, category, kind) VALUES (1, 'a', 'b')")
                    .ok());
  }
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  auto count =
      (*db)->Read([](SqliteConnection& c) { return c.QueryInt("SELECT COUNT(*) FROM events"); });
  EXPECT_EQ(*count, 1);
}

// The migrations commit without a sync (synchronous=NORMAL, database.cc says why); every
// commit after them must be durable again when it returns.
TEST(DatabaseTest, CommitsAfterTheMigrationsAreFullySynced) {
  TempDir dir;
  auto db = Database::Open(dir.Path("data"));
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  EXPECT_EQ(*(*db)->write_connection().QueryInt("PRAGMA synchronous"), 2);  // FULL
  db->reset();
  auto reopened = Database::Open(dir.Path("data"));  // nothing to migrate
  ASSERT_TRUE(reopened.ok()) << reopened.error().ToString();
  EXPECT_EQ(*(*reopened)->write_connection().QueryInt("PRAGMA synchronous"), 2);
}

TEST(DatabaseTest, AnOlderSchemaIsMigratedToTheCurrentOneInOneGo) {
  TempDir dir;
  {
    auto old = SqliteConnection::Open(dir.Path("rebound.db"), /*read_only=*/false);
    ASSERT_TRUE(old.ok());
    ASSERT_TRUE((*old)->Exec("PRAGMA journal_mode=WAL").ok());
    ASSERT_TRUE((*old)->Exec(Migrations()[0]).ok());
    ASSERT_TRUE((*old)->Exec("PRAGMA user_version = 1").ok());
    ASSERT_TRUE(
        (*old)->Exec("INSERT INTO events(time_ms, category, kind) VALUES (1, 'a', 'b')").ok());
  }
  auto db = Database::Open(dir.path());
  ASSERT_TRUE(db.ok()) << db.error().ToString();
  auto version = (*db)->Read([](SqliteConnection& c) { return c.QueryInt("PRAGMA user_version"); });
  EXPECT_EQ(*version, Database::SchemaVersion());
  auto jobs =
      (*db)->Read([](SqliteConnection& c) { return c.QueryInt("SELECT COUNT(*) FROM jobs"); });
  EXPECT_TRUE(jobs.ok()) << jobs.error().ToString();  // migration 2's table
  auto events =
      (*db)->Read([](SqliteConnection& c) { return c.QueryInt("SELECT COUNT(*) FROM events"); });
  EXPECT_EQ(*events, 1);
}

TEST(DatabaseTest, RefusesADatabaseFromANewerRebound) {
  TempDir dir;
  {
    auto db = Database::Open(dir.path());
    ASSERT_TRUE((*db)->write_connection().Exec("PRAGMA user_version = 999").ok());
  }
  auto db = Database::Open(dir.path());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message().find("schema version 999, newer than this rebound supports"),
            std::string::npos)
      << db.error().message();
}

TEST(DatabaseTest, AFileThatIsNotADatabaseIsReportedAsCorruption) {
  TempDir dir;
  std::ofstream(dir.Path("rebound.db")) << std::string(8192, 'x');
  auto db = Database::Open(dir.path());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().category(), ErrorCategory::kCorruption) << db.error().ToString();
  EXPECT_NE(db.error().message().find(dir.path()), std::string::npos);
}

TEST(DatabaseTest, DamagedPagesAreFoundByTheChecks) {
  TempDir dir;
  {
    auto db = Database::Open(dir.path());
    SqliteConnection& c = (*db)->write_connection();
    ASSERT_TRUE(c.Exec("BEGIN").ok());
    for (int i = 0; i < 2000; ++i) {
      ASSERT_TRUE(c.Exec("INSERT INTO events(time_ms, category, kind, subject) VALUES (" +
                         std::to_string(i) + ", 'cat', 'kind', 'subject-" + std::to_string(i) +
                         "')")
                      .ok());
    }
    ASSERT_TRUE(c.Exec("COMMIT").ok());
    ASSERT_TRUE(c.Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  // Overwrite the middle of the file (past the header page) with garbage.
  {
    std::fstream file(dir.Path("rebound.db"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(0, std::ios::end);
    const auto size = static_cast<long>(file.tellp());
    file.seekp(size / 2);
    const std::string garbage(8192, '\x5a');
    file.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  auto db = Database::Open(dir.path());
  Status status = db.ok() ? (*db)->IntegrityCheck() : Status(db.error());
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().category(), ErrorCategory::kCorruption) << status.error().ToString();
}

TEST(DatabaseTest, DataDirectoryThatCannotBeCreatedIsAClearError) {
  TempDir dir;
  std::ofstream(dir.Path("a-file")) << "x";
  auto db = Database::Open(dir.Path("a-file/data"));
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message().find("data directory"), std::string::npos) << db.error().message();
}

// Root ignores permission bits, so the read-only case runs in a child that drops to nobody.
TEST(DatabaseTest, ReadOnlyDataDirectoryIsAPermissionError) {
  TempDir dir;
  ASSERT_EQ(::chmod(dir.path().c_str(), 0555), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    if (::getuid() == 0 && ::setuid(65534) != 0) {
      _exit(10);
    }
    auto db = Database::Open(dir.path());
    if (db.ok()) {
      _exit(11);
    }
    const bool clear = db.error().category() == ErrorCategory::kPermission &&
                       db.error().message().find(dir.path()) != std::string::npos;
    _exit(clear ? 0 : 12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setuid failed, 11: opened, 12: unclear error";
}

TEST(DatabaseTest, InMemoryDatabaseWorks) {
  auto db = Database::OpenInMemory();
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE((*db)->in_memory());
  auto count = (*db)->Read(
      [](SqliteConnection& c) { return c.QueryInt("SELECT COUNT(*) FROM operations"); });
  EXPECT_EQ(*count, 0);
}

}  // namespace
}  // namespace rebound::store
