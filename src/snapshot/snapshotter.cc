#include "snapshot/snapshotter.h"

#include "base/atomic_file.h"
#include "base/version.h"
#include "snapshot/redaction.h"
#include "snapshot/timestamp.h"

namespace rebound::snapshot {
namespace {

int64_t ToMillis(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

WallTime FromMillis(int64_t ms) { return WallTime(std::chrono::milliseconds(ms)); }

}  // namespace

nlohmann::json CaptureResultToJson(const CaptureResult& result) {
  return {{"commit", result.commit},
          {"timestamp", FormatUtcMillis(result.timestamp_ms)},
          {"size_bytes", result.size_bytes},
          {"redacted_values", result.redacted_values}};
}

nlohmann::json SnapshotSummaryToJson(const SnapshotSummary& summary) {
  return {{"commit", summary.commit.id},
          {"time", FormatUtcMillis(summary.commit.time_s * 1000)},
          {"message", summary.commit.message},
          {"tags", summary.commit.tags},
          {"size_bytes", summary.size_bytes}};
}

Result<CaptureResult> Snapshotter::Capture(std::map<std::string, ServiceRecord> services,
                                           const std::string& captured_by,
                                           const std::string& message) {
  auto modules = states_.List();
  if (!modules.ok()) {
    return modules.error().WithContext("capture: reading module states");
  }
  auto head = git_.Head();
  if (!head.ok()) {
    return head.error().WithContext("capture");
  }
  const WallTime now = clock_.WallNow();
  RecoveryDocument document{.timestamp_ms = ToMillis(now),
                            .rebound_version = kVersion,
                            .parent_commit = head->value_or(""),
                            .captured_by = captured_by,
                            .services = std::move(services)};
  if (options_.jobs_status) {
    document.jobs = options_.jobs_status();
  }
  int redacted = 0;
  for (store::ModuleState& state : *modules) {
    redacted += RedactSecrets(state.document, options_.redact_patterns);
    document.module_states[state.module] = std::move(state.document);
  }
  const std::string text = SerializeRecoveryDocument(document);
  REBOUND_RETURN_IF_ERROR(WriteChecksummedFile(fs_, options_.document_path, text, 0600));
  auto commit =
      git_.CommitFile(kDocumentFileName, text, message.empty() ? "snapshot" : message, now);
  if (!commit.ok()) {
    return commit.error().WithContext("capture");
  }
  return CaptureResult{.commit = *commit,
                       .timestamp_ms = document.timestamp_ms,
                       .size_bytes = static_cast<int64_t>(text.size()),
                       .redacted_values = redacted};
}

Result<std::vector<SnapshotSummary>> Snapshotter::List() {
  auto commits = git_.Log();
  if (!commits.ok()) {
    return commits.error();
  }
  std::vector<SnapshotSummary> summaries;
  for (CommitInfo& commit : *commits) {
    auto size = git_.FileSize(commit.id, kDocumentFileName);
    summaries.push_back({.commit = std::move(commit), .size_bytes = size.value_or(-1)});
  }
  return summaries;
}

Status Snapshotter::Tag(const std::string& revision, const std::string& name) {
  return git_.Tag(revision, name);
}

Result<std::string> Snapshotter::ResolveSelector(const SnapshotSelector& selector) {
  const int chosen =
      selector.commit.has_value() + selector.tag.has_value() + selector.at_ms.has_value();
  if (chosen > 1) {
    return ValidationError("choose one of commit, tag and at, not " + std::to_string(chosen));
  }
  if (selector.at_ms) {
    auto found = git_.FindAtOrBefore(FromMillis(*selector.at_ms));
    if (!found.ok()) {
      return found.error().WithContext("at " + FormatUtcMillis(*selector.at_ms));
    }
    return found->id;
  }
  if (selector.tag) {
    auto commit = git_.ResolveCommit("refs/tags/" + *selector.tag);
    if (!commit.ok() && commit.error().category() == ErrorCategory::kNotFound) {
      return NotFoundError("no snapshot is tagged \"" + *selector.tag +
                           "\"; \"rebound snapshots\" lists the tags");
    }
    return commit;
  }
  if (selector.commit) {
    return git_.ResolveCommit(*selector.commit);
  }
  auto head = git_.Head();
  if (!head.ok()) {
    return head.error();
  }
  if (!head->has_value()) {
    return NotFoundError("there are no snapshots yet; take one with \"rebound capture -m MSG\"");
  }
  return **head;
}

Result<RecoveryPlan> Snapshotter::Plan(const SnapshotSelector& selector,
                                       const std::map<std::string, std::string>& current) {
  auto commit = ResolveSelector(selector);
  if (!commit.ok()) {
    return commit.error();
  }
  auto text = git_.ReadFile(*commit, kDocumentFileName);
  if (!text.ok()) {
    return text.error();
  }
  auto document = ParseRecoveryDocument(*text);
  if (!document.ok()) {
    return document.error().WithContext("snapshot " + *commit);
  }
  auto modules = states_.List();
  if (!modules.ok()) {
    return modules.error().WithContext("reading module states");
  }
  RecoveryPlan plan = BuildRecoveryPlan(*document, *modules, current);
  plan.commit = *commit;
  for (const CommitInfo& info : git_.Log().value_or({})) {
    if (info.id == *commit) {
      plan.message = info.message;
    }
  }
  return plan;
}

Status Snapshotter::RestoreModuleStates(const RecoveryPlan& plan) {
  for (const ModuleChange& change : plan.modules) {
    if (change.action == "unchanged") {
      continue;
    }
    auto put = states_.Put(change.module, change.target, change.current_version).get();
    if (!put.ok()) {
      return put.error().WithContext("restoring module " + change.module);
    }
  }
  return OkStatus();
}

}  // namespace rebound::snapshot
