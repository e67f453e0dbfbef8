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
// then commits it as recovery.json on HEAD. Thread-safe when the GitStore and the
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

nlohmann::json CaptureResultToJson(const CaptureResult& result);
nlohmann::json SnapshotSummaryToJson(const SnapshotSummary& summary);

class Snapshotter {
 public:
  Snapshotter(GitStore& git, store::ModuleStateStore& states, FileSystem& fs, const Clock& clock,
              SnapshotterOptions options)
      : git_(git), states_(states), fs_(fs), clock_(clock), options_(std::move(options)) {}

  Result<CaptureResult> Capture(std::map<std::string, ServiceRecord> services,
                                const std::string& captured_by, const std::string& message);
  Result<std::vector<SnapshotSummary>> List();
  Status Tag(const std::string& revision, const std::string& name);
  // The chosen snapshot, validated, and what recovering to it would change.
  Result<RecoveryPlan> Plan(const SnapshotSelector& selector,
                            const std::map<std::string, std::string>& current_services);
  // Writes every "restore"/"create" module of `plan`, each a compare-and-set against the
  // version the plan saw: a module changed since is a conflict, reported, not overwritten.
  Status RestoreModuleStates(const RecoveryPlan& plan);

 private:
  Result<std::string> ResolveSelector(const SnapshotSelector& selector);

  GitStore& git_;
  store::ModuleStateStore& states_;
  FileSystem& fs_;
  const Clock& clock_;
  SnapshotterOptions options_;
};

}  // namespace rebound::snapshot
