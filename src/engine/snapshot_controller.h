#pragma once

// SnapshotController: what the API and the offline CLI may ask of the snapshot history
// (issue 7; docs/api.md "Snapshots"). engine/SnapshotService implements it, both inside the
// daemon (with live service status) and in the CLI on a data directory no daemon holds.
//
//   auto taken = controller.CaptureSnapshot("before upgrade");   // {"commit", "timestamp", ...}
//   auto plan = controller.RecoverSnapshot({.selector = {.tag = "good"}, .dry_run = true});
//
// Results are the JSON bodies the API answers with. Implementations are thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "base/error.h"
#include "snapshot/snapshotter.h"

namespace rebound::engine {

struct RecoverRequest {
  snapshot::SnapshotSelector selector = {};
  bool dry_run = false;
};

class SnapshotController {
 public:
  virtual ~SnapshotController() = default;

  // {"snapshots": [{"commit", "time", "message", "tags", "size_bytes"}, ...]}, newest first.
  virtual Result<nlohmann::json> ListSnapshots() = 0;
  // {"commit", "timestamp", "size_bytes", "redacted_values"}.
  virtual Result<nlohmann::json> CaptureSnapshot(const std::string& message) = 0;
  // not_found for an unknown revision, conflict for an existing tag name.
  virtual Status TagSnapshot(const std::string& revision, const std::string& name) = 0;
  // {"dry_run", "plan": {...}, and unless dry_run: "pre_recovery_commit", "started": [...]}.
  virtual Result<nlohmann::json> RecoverSnapshot(const RecoverRequest& request) = 0;

  // Retention, push and remote status (docs/api.md "Snapshots").
  // {"keep", "kept", "dropped", "objects_removed"}; `keep` nullopt: the configured keep.
  // validation when neither gives a positive count.
  virtual Result<nlohmann::json> PruneSnapshots(std::optional<int> keep) = 0;
  // {"remote", "pushed": true, "head"}; validation without a configured remote; the push's
  // error otherwise (network: retry later; conflict: the remote diverged).
  virtual Result<nlohmann::json> PushSnapshots() = 0;
  // {"remote", "branch", "local_head", "remote_head", "remote_behind_by", "last_pushed"};
  // remote_behind_by -1: the remote has snapshots this repository does not.
  virtual Result<nlohmann::json> SnapshotRemoteStatus() = 0;
};

}  // namespace rebound::engine
