#include "store/store.h"

namespace rebound::store {

Store::Store(std::unique_ptr<Database> database, Clock& clock)
    : database_(std::move(database)),
      writer_(std::make_unique<GroupCommitWriter>(*database_, clock)),
      journal_(std::make_unique<EventJournal>(*database_, *writer_, clock)),
      states_(std::make_unique<ModuleStateStore>(*database_, *writer_, clock)),
      operations_(std::make_unique<DurableOperations>(*database_, *writer_, clock)) {}

Store::~Store() { Close(); }

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, Clock& clock) {
  auto database = Database::Open(data_dir);
  if (!database.ok()) {
    return database.error();
  }
  return std::unique_ptr<Store>(new Store(std::move(*database), clock));
}

Result<std::unique_ptr<Store>> Store::OpenInMemory(Clock& clock) {
  auto database = Database::OpenInMemory();
  if (!database.ok()) {
    return database.error();
  }
  return std::unique_ptr<Store>(new Store(std::move(*database), clock));
}

void Store::Close() { writer_->Stop(); }

}  // namespace rebound::store
