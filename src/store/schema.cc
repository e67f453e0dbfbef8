#include "store/schema.h"

namespace rebound::store {

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kMigrations = {
      // 1: the event journal, module state and durable operations.
      R"sql(
        CREATE TABLE events (
          seq      INTEGER PRIMARY KEY AUTOINCREMENT,
          time_ms  INTEGER NOT NULL,
          category TEXT NOT NULL,
          kind     TEXT NOT NULL,
          subject  TEXT NOT NULL DEFAULT '',
          data     TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX events_by_time ON events(time_ms);
        CREATE INDEX events_by_subject ON events(subject, seq);
        CREATE INDEX events_by_kind ON events(category, kind, seq);

        CREATE TABLE module_state (
          module        TEXT PRIMARY KEY,
          document      TEXT NOT NULL,
          version       INTEGER NOT NULL,
          updated_at_ms INTEGER NOT NULL
        );

        CREATE TABLE operations (
          id             TEXT PRIMARY KEY,
          name           TEXT NOT NULL,
          state          TEXT NOT NULL,
          attempt        INTEGER NOT NULL DEFAULT 0,
          args           TEXT NOT NULL,
          result         TEXT,
          error          TEXT,
          error_category TEXT,
          metadata       TEXT NOT NULL DEFAULT '{}',
          created_at_ms  INTEGER NOT NULL,
          updated_at_ms  INTEGER NOT NULL
        );
        CREATE INDEX operations_by_state ON operations(state, updated_at_ms);
      )sql",
      // 2: durable jobs (src/jobs/job_store.cc). key is the idempotency key: unique when set.
      R"sql(
        CREATE TABLE jobs (
          id               INTEGER PRIMARY KEY AUTOINCREMENT,
          key              TEXT UNIQUE,
          queue            TEXT NOT NULL,
          priority         INTEGER NOT NULL DEFAULT 0,
          state            TEXT NOT NULL,
          spec             TEXT NOT NULL,
          attempt          INTEGER NOT NULL DEFAULT 0,
          cancel_requested INTEGER NOT NULL DEFAULT 0,
          last_exit        TEXT,
          message          TEXT NOT NULL DEFAULT '',
          error_category   TEXT,
          not_before_ms    INTEGER NOT NULL DEFAULT 0,
          created_at_ms    INTEGER NOT NULL,
          updated_at_ms    INTEGER NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs(state, queue);
      )sql",
  };
  return kMigrations;
}

}  // namespace rebound::store
