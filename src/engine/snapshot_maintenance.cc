// SnapshotService's upkeep of the history: retention ([snapshots] keep), pushing to the
// configured remote on demand, and comparing with it. Kept apart from capture and recovery
// (snapshot_service.cc); the same mutex serializes them.

#include <spdlog/spdlog.h>

#include "engine/snapshot_service.h"

namespace rebound::engine {
namespace {

Error NoRemote() {
  return ValidationError(
      "no snapshot remote is configured; set [snapshots] remote = "
      "\"file:///backup/rebound.git\" (any git URL) in the configuration");
}

nlohmann::json PruneJson(int keep, const snapshot::PruneResult& pruned) {
  return {{"keep", keep},
          {"kept", pruned.kept},
          {"dropped", pruned.dropped},
          {"objects_removed", pruned.objects_removed}};
}

}  // namespace

Result<snapshot::PruneResult> SnapshotService::PruneLocked(int keep) {
  // With a remote, a snapshot is pruned only once the remote has it: a later push never
  // needs a document that is gone, and the remote keeps the full history.
  auto pruned = git_->Prune({.keep = keep, .keep_unpushed = !remote_.empty()});
  if (pruned.ok() && pruned->dropped > 0) {
    Journal("pruned", "", PruneJson(keep, *pruned));
  }
  return pruned;
}

void SnapshotService::ApplyRetention(nlohmann::json& answer) {
  if (keep_ <= 0) {
    return;
  }
  auto pruned = PruneLocked(keep_);
  if (!pruned.ok()) {
    // The capture itself is committed; a failed prune only leaves more history than asked.
    answer["prune_error"] = pruned.error().message();
    spdlog::warn("snapshots: pruning to the newest {} failed: {}", keep_, pruned.error().message());
    return;
  }
  answer["pruned"] = pruned->dropped;
}

void SnapshotService::PushTagged(const std::string& tag) {
  if (remote_.empty()) {
    return;
  }
  nlohmann::json outcome;
  PushTo(outcome);  // retried on transport errors; a failure is logged there
  if (!outcome.value("pushed", false)) {
    spdlog::warn("snapshots: tag {} stays local until the next push", tag);
  }
}

Result<nlohmann::json> SnapshotService::PruneSnapshots(std::optional<int> keep) {
  const int count = keep.value_or(keep_);
  if (count <= 0) {
    return ValidationError(
        "how many snapshots to keep? set [snapshots] keep = N in the configuration or pass "
        "--keep N (N >= 1; the newest N and every tagged snapshot are kept)");
  }
  std::lock_guard lock(mutex_);
  auto pruned = PruneLocked(count);
  if (!pruned.ok()) {
    return pruned.error().WithContext("pruning snapshots");
  }
  return PruneJson(count, *pruned);
}

Result<nlohmann::json> SnapshotService::PushSnapshots() {
  if (remote_.empty()) {
    return NoRemote();
  }
  std::lock_guard lock(mutex_);
  auto head = git_->Head();
  if (!head.ok()) {
    return head.error();
  }
  if (!head->has_value()) {
    return NotFoundError("there are no snapshots to push yet; take one with \"rebound capture\"");
  }
  if (Status pushed = git_->Push(remote_); !pushed.ok()) {
    Journal("push_failed", **head, {{"remote", remote_}, {"error", pushed.error().message()}});
    return pushed.error();
  }
  Journal("pushed", **head, {{"remote", remote_}});
  return nlohmann::json{{"remote", remote_}, {"pushed", true}, {"head", **head}};
}

Result<nlohmann::json> SnapshotService::SnapshotRemoteStatus() {
  if (remote_.empty()) {
    return NoRemote();
  }
  std::lock_guard lock(mutex_);
  auto compared = git_->CompareWithRemote(remote_);
  if (!compared.ok()) {
    return compared.error().WithContext("comparing with " + remote_);
  }
  return nlohmann::json{{"remote", remote_},
                        {"branch", compared->branch},
                        {"local_head", compared->local_head},
                        {"remote_head", compared->remote_head},
                        {"remote_behind_by", compared->remote_behind_by},
                        {"last_pushed", compared->last_pushed}};
}

}  // namespace rebound::engine
