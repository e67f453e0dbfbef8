#pragma once

// Snapshotter: capture the system into the snapshot repository, list and tag snapshots,
// and plan and apply the module-state half of a recovery. The daemon uses it with live
// service status; the CLI uses it directly on the data directory when no daemon runs.
//
//   Snapshotter snapshots(*git, store->states(), DefaultFileSystem(), clock,
//                         {.document_path = data_dir + "/recovery.json"});
//   auto taken = snapshots.Capture(services, "daemon", "before upgrade");
//   auto plan = snapshots.Plan({.tag = "pre-upgrade"}, current_states);
//   auto applied = snapshots.RestoreModuleStates(*plan);   // CAS against the plan's versions
//
// A capture writes the document (redacted) atomically with its checksum to document_path,
// then commits it (as GitStore::document_path()) on HEAD. Thread-safe when the GitStore and the
// ModuleStateStore are (they are); all references must outlive this.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "base/file_system.h"
#include "snapshot/git_store.h"
#include "snapshot/module_endpoint.h"
#include "snapshot/recovery_document.h"
#include "snapshot/recovery_plan.h"
#include "snapshot/redaction.h"
#include "store/module_state.h"

namespace rebound::snapshot {

inline constexpr char kDocumentFileName[] = "recovery.json";

struct SnapshotterOptions {
  std::string document_path = {};  // the checksummed working copy, DATA_DIR/recovery.json
  std::vector<std::string> redact_patterns = DefaultRedactPatterns();
  // The durable jobs' counts for system_status.jobs, read at each capture; nullopt (or no
  // function) leaves them out. Called on the capturing thread.
  std::function<std::optional<JobsRecord>()> jobs_status = {};
  // Per module: where its state is pulled from at capture and pushed to on recovery.
  std::map<std::string, ModuleBinding> modules = {};
  // Reaches those endpoints. REQUIRES: set when any binding has a source or restore target.
  EndpointTransport* transport = nullptr;
};

struct CaptureResult {
  std::string commit = {};
  int64_t timestamp_ms = 0;
  int64_t size_bytes = 0;
  int redacted_values = 0;
};

struct SnapshotSummary {
  CommitInfo commit = {};
  int64_t size_bytes = 0;
};

// Which snapshot: at most one of the three; none means the newest.
struct SnapshotSelector {
  std::optional<std::string> commit = {};
  std::optional<std::string> tag = {};
  std::optional<int64_t> at_ms = {};
};

// What a recovery's module step did, in order; it stops at the first failure.
struct RestoredModule {
  std::string module = {};
  std::string store_action = {};    // the plan's action: "restore", "create", "unchanged"
  std::string restore_target = {};  // "" when none is configured
};

struct RestoreFailure {
  std::string module = {};
  std::string step = {};  // "store" (the compare-and-set) or "target" (the push)
  Error error;
};

struct RestoreReport {
  std::vector<RestoredModule> restored = {};
  std::optional<RestoreFailure> failed = {};
  std::vector<std::string> not_restored = {};  // after the failure, left untouched

  bool ok() const { return !failed.has_value(); }
};

nlohmann::json CaptureResultToJson(const CaptureResult& result);
// {"restored": [{"module", "store", "target"}], "not_restored": [...], and when it failed
// "failed": {"module", "step", "code", "message"}}.
nlohmann::json RestoreReportToJson(const RestoreReport& report);
nlohmann::json SnapshotSummaryToJson(const SnapshotSummary& summary);

class Snapshotter {
 public:
  Snapshotter(GitStore& git, store::ModuleStateStore& states, FileSystem& fs, const Clock& clock,
              SnapshotterOptions options)
      : git_(git), states_(states), fs_(fs), clock_(clock), options_(std::move(options)) {}

  // Pulls each module's configured source (pulled states win over pushed ones), redacts,
  // writes and commits. A required module's failing source fails the capture before anything
  // is written, unless `enforce_required` is false (the capture a recovery takes first: the
  // application being down is often why it recovers, and that must not block it).
  Result<CaptureResult> Capture(std::map<std::string, ServiceRecord> services,
                                const std::string& captured_by, const std::string& message,
                                bool enforce_required = true);
  Result<std::vector<SnapshotSummary>> List();
  Status Tag(const std::string& revision, const std::string& name);
  // The chosen snapshot, validated, and what recovering to it would change.
  Result<RecoveryPlan> Plan(const SnapshotSelector& selector,
                            const std::map<std::string, std::string>& current_services);
  // Module by module: writes each "restore"/"create" module into the store, a compare-and-set
  // against the version the plan saw (a module changed since is a conflict, not overwritten),
  // then pushes it to its restore target. Stops at the first failure. `only`: that module alone.
  RestoreReport RestoreModules(const RecoveryPlan& plan,
                               const std::optional<std::string>& only = std::nullopt);

 private:
  struct ModuleTexts {
    std::map<std::string, std::string> compact = {};  // module -> redacted compact JSON
    int redacted = 0;
  };
  Result<ModuleTexts> RedactedStates(std::vector<std::pair<std::string, std::string>> stored,
                                     RecoveryDocument& document);
  Result<std::string> ResolveSelector(const SnapshotSelector& selector);
  // Pulls each configured source into `document` (pulled beats pushed: it is fresher);
  // an Error only for a required module's failure.
  Status PullSources(RecoveryDocument& document, bool enforce_required);
  Result<nlohmann::json> TargetDocument(const ModuleChange& change, const ModuleBinding& binding);
  Status RestoreOne(const ModuleChange& change, RestoreReport& report);

  GitStore& git_;
  store::ModuleStateStore& states_;
  FileSystem& fs_;
  const Clock& clock_;
  SnapshotterOptions options_;
};

}  // namespace rebound::snapshot
