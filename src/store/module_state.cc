#include "store/module_state.h"

namespace rebound::store {
namespace {

Result<std::optional<ModuleState>> Load(SqliteConnection& db, const std::string& module) {
  auto stmt =
      db.Prepare("SELECT document, version, updated_at_ms FROM module_state WHERE module = ?1");
  if (!stmt.ok()) {
    return stmt.error();
  }
  stmt->BindText(1, module);
  auto row = stmt->Step();
  if (!row.ok()) {
    return row.error();
  }
  if (!*row) {
    return std::optional<ModuleState>();
  }
  ModuleState state{module, nlohmann::json::parse(stmt->ColumnText(0), nullptr, false),
                    stmt->ColumnInt(1), stmt->ColumnInt(2)};
  if (state.document.is_discarded()) {
    return CorruptionError("module state '" + module + "' holds malformed JSON");
  }
  return std::optional<ModuleState>(std::move(state));
}

Error VersionConflict(const std::string& module, int64_t expected, int64_t actual) {
  if (expected == 0) {
    return ConflictError("module state '" + module + "' already exists at version " +
                         std::to_string(actual));
  }
  return ConflictError("module state '" + module + "' is at version " + std::to_string(actual) +
                       ", not the expected " + std::to_string(expected) +
                       "; read it again and retry");
}

}  // namespace

Status ValidateModuleName(const std::string& module) {
  const bool ok = !module.empty() && module.size() <= 128 &&
                  module.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_.-") == std::string::npos;
  if (!ok) {
    return ValidationError("invalid module name \"" + module +
                           "\": use 1-128 characters of letters, digits, '_', '.' and '-'");
  }
  return OkStatus();
}

nlohmann::json ModuleStateToJson(const ModuleState& state) {
  return {{"module", state.module},
          {"document", state.document},
          {"version", state.version},
          {"updated_at_ms", state.updated_at_ms}};
}

Result<ModuleState> ModuleStateStore::Get(const std::string& module) {
  auto loaded = database_.Read([&](SqliteConnection& db) { return Load(db, module); });
  if (!loaded.ok()) {
    return loaded.error();
  }
  if (!loaded->has_value()) {
    return NotFoundError("no state stored for module '" + module + "'");
  }
  return std::move(**loaded);
}

Status ModuleStateStore::AwaitQueuedWrites() {
  return writer_.SubmitStatus([](SqliteConnection&) { return OkStatus(); }).get();
}

Result<std::vector<std::pair<std::string, std::string>>> ModuleStateStore::ListText() {
  using Texts = std::vector<std::pair<std::string, std::string>>;
  return database_.Read([](SqliteConnection& db) -> Result<Texts> {
    auto stmt = db.Prepare("SELECT module, document FROM module_state ORDER BY module");
    if (!stmt.ok()) {
      return stmt.error();
    }
    Texts texts;
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) {
        return row.error();
      }
      if (!*row) {
        return texts;
      }
      texts.emplace_back(stmt->ColumnText(0), stmt->ColumnText(1));
    }
  });
}

Result<std::vector<ModuleState>> ModuleStateStore::List() {
  return database_.Read([](SqliteConnection& db) -> Result<std::vector<ModuleState>> {
    auto stmt = db.Prepare(
        "SELECT module, document, version, updated_at_ms FROM module_state ORDER BY module");
    if (!stmt.ok()) {
      return stmt.error();
    }
    std::vector<ModuleState> states;
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) {
        return row.error();
      }
      if (!*row) {
        return states;
      }
      ModuleState state{stmt->ColumnText(0),
                        nlohmann::json::parse(stmt->ColumnText(1), nullptr, false),
                        stmt->ColumnInt(2), stmt->ColumnInt(3)};
      if (state.document.is_discarded()) {
        return CorruptionError("module state '" + state.module + "' holds malformed JSON");
      }
      states.push_back(std::move(state));
    }
  });
}

std::future<Result<ModuleState>> ModuleStateStore::Put(const std::string& module,
                                                       nlohmann::json document,
                                                       std::optional<int64_t> expected_version) {
  if (Status valid = ValidateModuleName(module); !valid.ok()) {
    std::promise<Result<ModuleState>> rejected;
    rejected.set_value(valid.error());
    return rejected.get_future();
  }
  const int64_t now_ms = ToUnixMillis(clock_.WallNow());
  return writer_.Submit<ModuleState>([module, document = std::move(document), expected_version,
                                      now_ms](SqliteConnection& db) -> Result<ModuleState> {
    auto current = Load(db, module);
    if (!current.ok()) {
      return current.error();
    }
    const int64_t version = current->has_value() ? (*current)->version : 0;
    if (expected_version && *expected_version != version) {
      return VersionConflict(module, *expected_version, version);
    }
    ModuleState next{module, document, version + 1, now_ms};
    auto stmt = db.Cached(
        "INSERT INTO module_state(module, document, version, updated_at_ms) "
        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(module) DO UPDATE SET "
        "document = excluded.document, version = excluded.version, "
        "updated_at_ms = excluded.updated_at_ms");
    if (!stmt.ok()) {
      return stmt.error();
    }
    (*stmt)->BindText(1, module).BindText(2, document.dump()).BindInt(3, next.version);
    (*stmt)->BindInt(4, now_ms);
    REBOUND_RETURN_IF_ERROR((*stmt)->StepDone());
    return next;
  });
}

std::future<Status> ModuleStateStore::Delete(const std::string& module,
                                             std::optional<int64_t> expected_version) {
  return writer_.SubmitStatus([module, expected_version](SqliteConnection& db) -> Status {
    auto current = Load(db, module);
    if (!current.ok()) {
      return current.error();
    }
    if (!current->has_value()) {
      return NotFoundError("no state stored for module '" + module + "'");
    }
    if (expected_version && *expected_version != (*current)->version) {
      return VersionConflict(module, *expected_version, (*current)->version);
    }
    auto stmt = db.Prepare("DELETE FROM module_state WHERE module = ?1");
    if (!stmt.ok()) {
      return stmt.error();
    }
    stmt->BindText(1, module);
    return stmt->StepDone();
  });
}

}  // namespace rebound::store
