#include "snapshot/snapshotter.h"

#include "base/atomic_file.h"
#include "base/version.h"
#include "snapshot/json_splice.h"
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
                                           const std::string& message,
                                           bool enforce_required) {
  // The daemon's own records (which services were stopped by hand) are put without waiting:
  // a capture right after a stop must still hold it.
  if (Status settled = states_.AwaitQueuedWrites(); !settled.ok()) {
    return settled.error().WithContext("capture: waiting for queued module state writes");
  }
  auto stored = states_.ListText();
  if (!stored.ok()) {
    return stored.error().WithContext("capture: reading module states");
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
  REBOUND_RETURN_IF_ERROR(PullSources(document, enforce_required));
  auto states = RedactedStates(std::move(*stored), document);
  if (!states.ok()) {
    return states.error().WithContext("capture");
  }
  const std::string text = SerializeRecoveryDocument(document, states->compact);
  // Where the commit's one file system flush also covers recovery.json, the file skips its own
  // two syncs: it is written after that flush is opened and durable before the branch moves.
  const FileDurability durability = git_.FlushCovers(ParentDir(options_.document_path))
                                        ? FileDurability::kAtomicOnly
                                        : FileDurability::kDurable;
  auto commit = git_.CommitFile(
      git_.document_path(), text, message.empty() ? "snapshot" : message, now, [&] {
        return WriteChecksummedFile(fs_, options_.document_path, text, 0600, durability);
      });
  if (!commit.ok()) {
    return commit.error().WithContext("capture");
  }
  return CaptureResult{.commit = *commit,
                       .timestamp_ms = document.timestamp_ms,
                       .size_bytes = static_cast<int64_t>(text.size()),
                       .redacted_values = states->redacted};
}

// Stored states are spliced as stored when they are compact and hold no key to redact (the
// usual case: no parse, no re-serialization); the others, and the pulled ones (moved out of
// `document`, which then holds none), are parsed, redacted and dumped compact.
Result<Snapshotter::ModuleTexts> Snapshotter::RedactedStates(
    std::vector<std::pair<std::string, std::string>> stored, RecoveryDocument& document) {
  ModuleTexts states;
  for (auto& [module, text] : stored) {
    if (document.module_states.count(module) > 0) {
      continue;  // pulled from its source at this capture: fresher than the stored one
    }
    if (IsSpliceable(text, options_.redact_patterns)) {
      states.compact[module] = std::move(text);
      continue;
    }
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return CorruptionError("module state '" + module + "' holds malformed JSON");
    }
    document.module_states[module] = std::move(parsed);
  }
  for (auto& [module, state] : document.module_states) {
    states.redacted += RedactSecrets(state, options_.redact_patterns);
    states.compact[module] = state.dump();
  }
  document.module_states.clear();
  return states;
}

Status Snapshotter::PullSources(RecoveryDocument& document, bool enforce_required) {
  for (const auto& [module, binding] : options_.modules) {
    if (!binding.source) {
      continue;
    }
    auto pulled = PullModuleState(*options_.transport, *binding.source);
    SourceOutcome& outcome = document.module_sources[module];
    outcome.source = DescribeEndpoint(*binding.source);
    if (pulled.ok()) {
      outcome.pulled = true;
      document.module_states[module] = std::move(*pulled);
      continue;
    }
    if (binding.required && enforce_required) {
      return Error(pulled.error().category(), "capture: required module " + module +
                                                  ": source " + pulled.error().message() +
                                                  "; nothing was committed");
    }
    outcome.error = pulled.error().message();
  }
  return OkStatus();
}

Result<std::vector<SnapshotSummary>> Snapshotter::List() {
  auto commits = git_.Log();
  if (!commits.ok()) {
    return commits.error();
  }
  std::vector<SnapshotSummary> summaries;
  for (CommitInfo& commit : *commits) {
    auto size = git_.FileSize(commit.id, git_.document_path());
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
  auto head = git_.NewestSnapshot();
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
  auto text = git_.ReadFile(*commit, git_.document_path());
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
  for (ModuleChange& change : plan.modules) {
    const auto binding = options_.modules.find(change.module);
    if (binding != options_.modules.end() && binding->second.restore) {
      change.restore_target = DescribeEndpoint(*binding->second.restore);
    }
  }
  for (const CommitInfo& info : git_.Log().value_or({})) {
    if (info.id == *commit) {
      plan.message = info.message;
    }
  }
  return plan;
}

// The document to send to a restore target: where the snapshot holds "[REDACTED]" and the store
// had no value to put back, the application's live value (read from its source) is kept. A
// marker left over would overwrite the application's secret with the marker: refused.
Result<nlohmann::json> Snapshotter::TargetDocument(const ModuleChange& change,
                                                   const ModuleBinding& binding) {
  nlohmann::json document = change.target;
  if (HasRedactedValues(document) && binding.source) {
    auto live = PullModuleState(*options_.transport, *binding.source);
    if (live.ok()) {
      document = KeepRedactedValues(document, *live);
    }
  }
  if (HasRedactedValues(document)) {
    return ValidationError(
        "the snapshot's state has redacted values (\"[REDACTED]\") with no live value to keep "
        "(none in the store, none from the module's source); sending it would overwrite the "
        "application's secrets with the marker, so nothing was written");
  }
  return document;
}

Status Snapshotter::RestoreOne(const ModuleChange& change, RestoreReport& report) {
  const auto binding = options_.modules.find(change.module);
  const bool has_target = binding != options_.modules.end() && binding->second.restore;
  std::optional<nlohmann::json> target_document;
  if (has_target) {  // checked before the store is written: a refusal changes nothing
    auto document = TargetDocument(change, binding->second);
    if (!document.ok()) {
      report.failed =
          RestoreFailure{.module = change.module, .step = "target", .error = document.error()};
      return document.error();
    }
    target_document = std::move(*document);
  }
  if (change.action != "unchanged") {
    // With a target, the store gets the same document (live secrets kept), not the markers:
    // the sync service would otherwise carry the markers to the application later.
    auto put = states_.Put(change.module, target_document ? *target_document : change.target,
                           change.current_version)
                   .get();
    if (!put.ok()) {
      report.failed = RestoreFailure{.module = change.module, .step = "store", .error = put.error()};
      return put.error();
    }
  }
  if (has_target) {
    Status pushed = options_.transport->Write(*binding->second.restore, target_document->dump());
    if (!pushed.ok()) {
      report.failed = RestoreFailure{
          .module = change.module,
          .step = "target",
          .error = pushed.error().WithContext(DescribeEndpoint(*binding->second.restore))};
      return pushed;
    }
  }
  report.restored.push_back({.module = change.module,
                             .store_action = change.action,
                             .restore_target = change.restore_target});
  return OkStatus();
}

RestoreReport Snapshotter::RestoreModules(const RecoveryPlan& plan,
                                          const std::optional<std::string>& only) {
  RestoreReport report;
  for (const ModuleChange& change : plan.modules) {
    if (only && change.module != *only) {
      continue;
    }
    if (report.failed) {
      report.not_restored.push_back(change.module);
    } else if (!RestoreOne(change, report).ok()) {
      continue;  // recorded in report.failed; the rest are listed as not restored
    }
  }
  return report;
}

nlohmann::json RestoreReportToJson(const RestoreReport& report) {
  nlohmann::json restored = nlohmann::json::array();
  for (const RestoredModule& module : report.restored) {
    restored.push_back({{"module", module.module},
                        {"store", module.store_action},
                        {"target", module.restore_target.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(module.restore_target)}});
  }
  nlohmann::json json = {{"restored", restored}, {"not_restored", report.not_restored}};
  if (report.failed) {
    json["failed"] = {{"module", report.failed->module},
                      {"step", report.failed->step},
                      {"code", std::string(CategoryName(report.failed->error.category()))},
                      {"message", report.failed->error.message()}};
  }
  return json;
}

}  // namespace rebound::snapshot
