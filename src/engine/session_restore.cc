#include "engine/session_restore.h"

#include "engine/data_dir_lock.h"
#include "engine/snapshot_service.h"

namespace rebound::engine {
namespace {

int64_t CountModules(const nlohmann::json& recovery) {
  int64_t restored = 0;
  for (const nlohmann::json& module : recovery["plan"].value("modules", nlohmann::json::array())) {
    restored += module.value("action", "") != "unchanged";
  }
  return restored;
}

// Restores the newest snapshot of the freshly cloned history into the store of `config`.
Result<SessionRestore> RecoverClonedHistory(const Config& config, const std::string& url) {
  auto store = store::Store::Open(config.daemon.data_dir);
  if (!store.ok()) {
    return store.error();
  }
  auto service = SnapshotService::Open(config, **store, nullptr, DefaultClock());
  if (!service.ok()) {
    return service.error();
  }
  auto recovered = (*service)->RecoverSnapshot({});
  if (!recovered.ok()) {
    return recovered.error().WithContext("restoring the newest snapshot from " + url);
  }
  SessionRestore restore{.cloned = true, .recovery = *recovered};
  restore.recovered_commit = (*recovered)["plan"].value("commit", "");
  // RecoverSnapshot saved the (empty) wiped state first; a capture now makes the restored
  // state the newest snapshot again, so a second wipe before any capture still finds it.
  auto captured = (*service)->CaptureSnapshot("restored from " + url + " to " +
                                              restore.recovered_commit.substr(0, 12));
  if (!captured.ok()) {
    return captured.error().WithContext("capturing the restored state");
  }
  const int64_t modules = CountModules(*recovered);
  restore.summary =
      "recovered from " + url + ": snapshot " + restore.recovered_commit.substr(0, 12) + " (" +
      (*recovered)["plan"].value("timestamp", "") + "), " + std::to_string(modules) +
      (modules == 1 ? " module state" : " module states") + " restored; starting the services";
  return restore;
}

}  // namespace

Result<SessionRestore> RestoreSession(const Config& config, const std::string& remote_url) {
  const std::string& data_dir = config.daemon.data_dir;
  REBOUND_RETURN_IF_ERROR(DefaultFileSystem().CreateDirs(data_dir));
  auto lock = DataDirLock::Acquire(data_dir);
  if (!lock.ok()) {
    return lock.error().WithContext("--recover-from");
  }
  const std::string repository = SnapshotRepositoryPath(config.snapshots, data_dir);
  if (!config.snapshots.document_path.empty() &&
      !DefaultFileSystem().Exists(repository + "/.git")) {
    return ValidationError("--recover-from: the snapshots live in the application's repository " +
                           repository + " ([snapshots] document_path), which is missing: clone "
                           "it there first (git clone URL " + repository + "), then start again");
  }
  if (!config.snapshots.document_path.empty()) {
    // Its history is the application's (it may hold no snapshot yet): never cloned over.
    return SessionRestore{
        .summary = "the snapshots live in the application's repository " + repository +
                   " ([snapshots] document_path), which is there: --recover-from neither "
                   "clones into it nor restores from it; the daemon starts on it (\"rebound "
                   "snapshots\" lists its snapshots, \"rebound recover\" restores one)"};
  }
  if (DefaultFileSystem().Exists(repository + "/HEAD")) {
    return SessionRestore{.summary = repository +
                                     " already holds a snapshot history; --recover-from leaves "
                                     "it as it is and the daemon starts on it"};
  }
  auto cloned = snapshot::GitStore::CloneFrom(remote_url, repository);
  if (!cloned.ok()) {
    return cloned.error().WithContext("--recover-from");
  }
  cloned->reset();  // SnapshotService opens it again
  auto restored = RecoverClonedHistory(config, remote_url);
  if (!restored.ok()) {
    return restored.error().WithContext("the history is cloned to " + repository +
                                        "; once the cause is fixed, \"rebound recover\" restores "
                                        "from it");
  }
  return restored;
}

}  // namespace rebound::engine
