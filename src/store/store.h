#pragma once

// Store: the durable store of one data directory, with all its parts wired together.
//
//   auto store = Store::Open("/var/lib/rebound");     // or Store::OpenInMemory(clock)
//   auto seq = (*store)->journal().Append({.category = "daemon", .kind = "started"}).get();
//   (*store)->operations().Register("download", Download);
//   (*store)->operations().Resume();
//
// Closing (or destroying) the store commits what is queued, then closes the database.
// Thread-safe. The clock must outlive the store.

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "store/database.h"
#include "store/durable_operations.h"
#include "store/group_commit.h"
#include "store/journal.h"
#include "store/module_state.h"

namespace rebound::store {

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir,
                                             Clock& clock = DefaultClock());
  static Result<std::unique_ptr<Store>> OpenInMemory(Clock& clock = DefaultClock());
  ~Store();

  Database& database() { return *database_; }
  GroupCommitWriter& writer() { return *writer_; }
  EventJournal& journal() { return *journal_; }
  ModuleStateStore& states() { return *states_; }
  DurableOperations& operations() { return *operations_; }

  // Commits what is queued and refuses further writes. Idempotent.
  void Close();

 private:
  Store(std::unique_ptr<Database> database, Clock& clock);

  std::unique_ptr<Database> database_;
  std::unique_ptr<GroupCommitWriter> writer_;
  std::unique_ptr<EventJournal> journal_;
  std::unique_ptr<ModuleStateStore> states_;
  std::unique_ptr<DurableOperations> operations_;
};

}  // namespace rebound::store
