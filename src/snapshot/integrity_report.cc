#include "snapshot/integrity_report.h"

#include "base/atomic_file.h"
#include "snapshot/recovery_document.h"

namespace rebound::snapshot {
namespace {

IntegrityCheck CheckDatabase(const IntegrityInputs& inputs) {
  IntegrityCheck check{.name = "database", .detail = "ok"};
  if (inputs.database == nullptr) {
    return {.name = "database", .ok = false, .detail = inputs.database_error};
  }
  if (Status status = inputs.database->IntegrityCheck(); !status.ok()) {
    check.ok = false;
    check.detail = status.error().message();
  }
  return check;
}

IntegrityCheck CheckDocument(const IntegrityInputs& inputs) {
  IntegrityCheck check{.name = "recovery_document", .detail = "ok"};
  if (!inputs.fs->Exists(inputs.document_path)) {
    check.detail = "absent (no snapshot taken yet)";
    return check;
  }
  auto text = ReadChecksummedFile(*inputs.fs, inputs.document_path);
  if (!text.ok()) {
    check.ok = false;
    check.detail = text.error().message();
    return check;
  }
  if (auto document = ParseRecoveryDocument(*text); !document.ok()) {
    check.ok = false;
    check.detail = inputs.document_path + ": " + document.error().message();
  }
  return check;
}

IntegrityCheck CheckRepository(const IntegrityInputs& inputs) {
  IntegrityCheck check{.name = "snapshot_repository"};
  if (inputs.git == nullptr) {
    check.detail = "absent (no snapshot taken yet)";
    return check;
  }
  auto objects = inputs.git->CheckObjects();
  if (!objects.ok()) {
    check.ok = false;
    check.detail = objects.error().message();
    return check;
  }
  if (!objects->problems.empty()) {
    check.ok = false;
    for (const std::string& problem : objects->problems) {
      check.detail += (check.detail.empty() ? "" : "; ") + problem;
    }
    return check;
  }
  check.detail = "ok, " + std::to_string(objects->objects_checked) + " objects";
  return check;
}

}  // namespace

bool IntegrityReport::ok() const {
  for (const IntegrityCheck& check : checks) {
    if (!check.ok) {
      return false;
    }
  }
  return true;
}

IntegrityReport VerifyIntegrity(const IntegrityInputs& inputs) {
  return {.checks = {CheckDatabase(inputs), CheckDocument(inputs), CheckRepository(inputs)}};
}

std::string FormatIntegrityReport(const IntegrityReport& report) {
  std::string text;
  for (const IntegrityCheck& check : report.checks) {
    text += (check.ok ? "ok       " : "DAMAGED  ") + check.name + ": " + check.detail + "\n";
  }
  text += report.ok() ? "verify: all checks passed\n" : "verify: damage found\n";
  return text;
}

nlohmann::json IntegrityReportToJson(const IntegrityReport& report) {
  nlohmann::json checks = nlohmann::json::array();
  for (const IntegrityCheck& check : report.checks) {
    checks.push_back({{"name", check.name}, {"ok", check.ok}, {"detail", check.detail}});
  }
  return {{"ok", report.ok()}, {"checks", checks}};
}

}  // namespace rebound::snapshot
