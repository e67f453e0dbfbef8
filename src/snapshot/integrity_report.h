#pragma once

// IntegrityReport: `rebound verify`, one check per durable part of a data directory: the
// SQLite database (PRAGMA integrity_check), the checksummed recovery.json, and the snapshot
// repository's object database (every object reachable from HEAD and the tags is read and
// its hash checked).
//
//   IntegrityReport report = VerifyIntegrity({.database = db.get(), .fs = &fs,
//                                             .document_path = dir + "/recovery.json",
//                                             .git = git.get()});
//   std::cout << FormatIntegrityReport(report);
//   return report.ok() ? 0 : 1;
//
// A part that does not exist yet (no snapshot taken) passes as "absent". Thread-safe when
// its inputs are.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/file_system.h"
#include "snapshot/git_store.h"
#include "store/database.h"

namespace rebound::snapshot {

struct IntegrityCheck {
  std::string name = {};  // "database", "recovery_document", "snapshot_repository"
  bool ok = true;
  std::string detail = {};  // "ok", "absent", or what is damaged
};

struct IntegrityReport {
  std::vector<IntegrityCheck> checks = {};
  bool ok() const;
};

struct IntegrityInputs {
  store::Database* database = nullptr;  // null: reported as unopenable with `database_error`
  std::string database_error = {};
  FileSystem* fs = nullptr;
  std::string document_path = {};
  GitStore* git = nullptr;  // null: the repository does not exist
};

IntegrityReport VerifyIntegrity(const IntegrityInputs& inputs);
std::string FormatIntegrityReport(const IntegrityReport& report);
nlohmann::json IntegrityReportToJson(const IntegrityReport& report);

}  // namespace rebound::snapshot
