#pragma once

// RecoveryDocument: what one snapshot records (docs/recovery-document.md): the services'
// status and every module's state, at one instant.
//
//   RecoveryDocument doc{.timestamp_ms = now_ms, .rebound_version = kVersion};
//   doc.services["api"] = {.state = "running", .restarts = 2, .health = "healthy"};
//   doc.module_states["llm_orchestrator"] = {{"current_model", "gpt-4"}};
//   std::string text = SerializeRecoveryDocument(doc);
//   Result<RecoveryDocument> back = ParseRecoveryDocument(text);   // validates every field
//
// Parse errors are validation Errors naming the field and the fix; a schema_version newer
// than this build's is refused (upgrade rebound to read it). Pure values; thread-safe.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.h"

namespace rebound::snapshot {

inline constexpr int kRecoveryDocumentSchemaVersion = 1;

struct ServiceRecord {
  std::string state = {};  // "running", "stopped", ... (engine::ServiceStatus::state)
  int64_t restarts = 0;
  std::string health = "none";
  std::string breaker = "closed";

  bool operator==(const ServiceRecord&) const = default;
};

// The durable jobs at capture time, as /health's "jobs" component shows them: how many jobs
// are in each state, and each queue's backlog. Informative: recovering never changes jobs
// (they carry on from the store by themselves).
struct JobsRecord {
  std::map<std::string, int64_t> by_state = {};  // "queued" -> 3, "succeeded" -> 40, ...
  // queue -> {"queued", "running", "retrying"} -> count
  std::map<std::string, std::map<std::string, int64_t>> queues = {};

  bool operator==(const JobsRecord&) const = default;
};

// How a module's configured source answered at capture (docs/recovery-document.md,
// "module_sources"). A failed pull leaves the module's pushed state, if any, in module_states.
struct SourceOutcome {
  std::string source = {};  // snapshot::DescribeEndpoint, e.g. "url http://127.0.0.1:8080/state"
  bool pulled = false;      // false: it failed; `error` says why
  std::string error = {};

  bool operator==(const SourceOutcome&) const = default;
};

struct RecoveryDocument {
  int schema_version = kRecoveryDocumentSchemaVersion;
  int64_t timestamp_ms = 0;
  std::string rebound_version = {};
  std::string parent_commit = {};  // "" for the first snapshot of a repository
  // "daemon" when a running daemon captured it; "offline" when the CLI did, with the daemon
  // down (then services is empty: nothing was supervising them).
  std::string captured_by = "daemon";
  std::map<std::string, ServiceRecord> services = {};
  // Absent in documents written before jobs were recorded, or when they could not be read.
  std::optional<JobsRecord> jobs = {};
  std::map<std::string, nlohmann::json> module_states = {};
  // One entry per module with a configured source; absent from the JSON when empty.
  std::map<std::string, SourceOutcome> module_sources = {};

  bool operator==(const RecoveryDocument&) const = default;
};

nlohmann::json RecoveryDocumentToJson(const RecoveryDocument& document);
// Pretty-printed (two spaces), keys sorted: the same document always gives the same bytes.
std::string SerializeRecoveryDocument(const RecoveryDocument& document);
// The same bytes, with the module states given as compact JSON text (module -> nlohmann dump(),
// already redacted) and spliced in unparsed (snapshot/json_splice.h).
// REQUIRES: document.module_states is empty; each text IsSpliceable.
std::string SerializeRecoveryDocument(const RecoveryDocument& document,
                                      const std::map<std::string, std::string>& compact_states);

Result<RecoveryDocument> RecoveryDocumentFromJson(const nlohmann::json& json);
Result<RecoveryDocument> ParseRecoveryDocument(std::string_view text);

}  // namespace rebound::snapshot
