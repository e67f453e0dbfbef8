#include "cli/snapshot_commands.h"

#include <cstdio>
#include <memory>

#include "base/path.h"
#include "cli/snapshot_api_client.h"
#include "engine/config.h"
#include "engine/data_dir_lock.h"
#include "engine/snapshot_service.h"
#include "snapshot/integrity_report.h"
#include "snapshot/timestamp.h"

namespace rebound::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int ExitCodeFor(const Error& error) {
  return error.category() == ErrorCategory::kNetwork ? kExitUsage : kExitFailed;
}

// The daemon's API, or the data directory opened here (its lock held) when no daemon runs.
struct Backend {
  std::unique_ptr<SnapshotApiClient> api;
  std::unique_ptr<engine::DataDirLock> lock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::SnapshotService> offline;

  engine::SnapshotController& controller() {
    return api ? static_cast<engine::SnapshotController&>(*api) : *offline;
  }
};

Result<engine::Config> LoadConfigFor(const SnapshotCommandContext& context) {
  auto config = engine::LoadConfig(context.config_path, engine::ProcessEnvironment());
  if (!config.ok()) {
    return config.error().WithContext("reading " + context.config_path +
                                      " (pass --config FILE or set REBOUND_CONFIG)");
  }
  return config;
}

Result<Backend> OpenBackend(const SnapshotCommandContext& context) {
  auto config = LoadConfigFor(context);
  if (!config.ok()) {
    return config.error();
  }
  const std::string& data_dir = config->daemon.data_dir;
  if (!DefaultFileSystem().Exists(data_dir)) {
    return NotFoundError("no data directory at " + data_dir +
                         "; start \"rebound serve\" once, or check [daemon] data_dir in " +
                         config->path);
  }
  Backend backend;
  auto lock = engine::DataDirLock::Acquire(data_dir);
  if (!lock.ok()) {
    if (lock.error().category() != ErrorCategory::kConflict) {
      return lock.error();
    }
    backend.api = std::make_unique<SnapshotApiClient>(context.resolve_client());
    return backend;
  }
  backend.lock = std::move(*lock);
  auto store = store::Store::Open(data_dir);
  if (!store.ok()) {
    return store.error();
  }
  backend.store = std::move(*store);
  auto service = engine::SnapshotService::Open(*config, *backend.store, nullptr, DefaultClock());
  if (!service.ok()) {
    return service.error();
  }
  backend.offline = std::move(*service);
  return backend;
}

std::string Short(const std::string& commit) { return commit.substr(0, 12); }

void PrintCapture(const nlohmann::json& taken, std::ostream& out) {
  out << "captured " << Short(taken.value("commit", "")) << " (" << taken.value("timestamp", "")
      << ", " << taken.value("size_bytes", 0) << " bytes";
  const int redacted = taken.value("redacted_values", 0);
  if (redacted > 0) {
    out << ", " << redacted << (redacted == 1 ? " value" : " values") << " redacted";
  }
  out << ")\n";
}

void PrintList(const nlohmann::json& list, std::ostream& out) {
  const nlohmann::json& snapshots = list["snapshots"];
  if (snapshots.empty()) {
    out << "no snapshots yet; take one with \"rebound capture -m MSG\"\n";
    return;
  }
  char line[512];
  std::snprintf(line, sizeof(line), "%-24s  %-12s  %9s  %-16s  %s\n", "TIME", "COMMIT", "SIZE",
                "TAGS", "MESSAGE");
  out << line;
  for (const nlohmann::json& snapshot : snapshots) {
    std::string tags;
    for (const nlohmann::json& tag : snapshot["tags"]) {
      tags += (tags.empty() ? "" : ",") + tag.get<std::string>();
    }
    std::snprintf(line, sizeof(line), "%-24s  %-12s  %9lld  %-16s  %s\n",
                  snapshot.value("time", "").c_str(), Short(snapshot.value("commit", "")).c_str(),
                  static_cast<long long>(snapshot.value("size_bytes", int64_t{0})),
                  tags.empty() ? "-" : tags.c_str(), snapshot.value("message", "").c_str());
    out << line;
  }
}

void PrintPlan(const nlohmann::json& plan, std::ostream& out) {
  out << "recover to " << Short(plan.value("commit", "")) << " (" << plan.value("timestamp", "")
      << ") \"" << plan.value("message", "") << "\"\n";
  for (const nlohmann::json& module : plan["modules"]) {
    out << "  module " << module.value("module", "") << ": " << module.value("action", "");
    if (module.value("current_version", 0) > 0) {
      out << " (now version " << module.value("current_version", 0) << ")";
    }
    if (module.contains("restore_target")) {
      out << ", then pushed to " << module.value("restore_target", "");
    }
    out << "\n";
  }
  for (const nlohmann::json& service : plan["services"]) {
    out << "  service " << service.value("name", "") << ": " << service.value("action", "")
        << " (recorded " << service.value("recorded_state", "") << ", now "
        << (service.value("current_state", "").empty() ? std::string("not supervised")
                                                       : service.value("current_state", ""))
        << ")\n";
  }
}

// The module step: what was restored, and when it stopped, where and what was left.
int PrintModuleStep(const nlohmann::json& answer, std::ostream& out, std::ostream& err) {
  const nlohmann::json modules = answer.value("modules", nlohmann::json::object());
  for (const nlohmann::json& module : modules.value("restored", nlohmann::json::array())) {
    out << "restored module " << module.value("module", "") << " (store: "
        << module.value("store", "") << (module["target"].is_string()
                                             ? ", pushed to " + module["target"].get<std::string>()
                                             : std::string())
        << ")\n";
  }
  if (!modules.contains("failed")) {
    return kExitOk;
  }
  const nlohmann::json& failed = modules["failed"];
  err << "rebound: recovery stopped at module " << failed.value("module", "") << " ("
      << (failed.value("step", "") == "store" ? "store" : "restore target")
      << "): " << failed.value("message", "") << "\n";
  for (const nlohmann::json& name : modules.value("not_restored", nlohmann::json::array())) {
    err << "  not restored: module " << name.get<std::string>() << "\n";
  }
  for (const nlohmann::json& name : answer.value("services_not_started", nlohmann::json::array())) {
    err << "  not started: service " << name.get<std::string>() << "\n";
  }
  return kExitFailed;
}

// Prints the outcome; kExitFailed when a module was not restored or a service did not start.
int PrintRecovery(const nlohmann::json& answer, std::ostream& out, std::ostream& err) {
  PrintPlan(answer["plan"], out);
  if (answer.value("dry_run", false)) {
    out << "dry run: nothing was changed\n";
    return kExitOk;
  }
  out << "current state saved first as " << Short(answer.value("pre_recovery_commit", "")) << "\n";
  if (PrintModuleStep(answer, out, err) != kExitOk) {
    out << "recovery incomplete\n";
    return kExitFailed;
  }
  int code = kExitOk;
  for (const nlohmann::json& started : answer.value("started", nlohmann::json::array())) {
    if (started.value("ok", false)) {
      out << "started " << started.value("name", "") << "\n";
    } else {
      err << "rebound: could not start " << started.value("name", "") << ": "
          << started.value("error", "") << "\n";
      code = kExitFailed;
    }
  }
  for (const nlohmann::json& verified : answer.value("verified", nlohmann::json::array())) {
    if (verified.value("healthy", false)) {
      out << "healthy " << verified.value("name", "") << "\n";
    } else {
      err << "rebound: " << verified.value("name", "") << " is not healthy (state "
          << verified.value("state", "") << ", health " << verified.value("health", "") << ")\n";
      code = kExitFailed;
    }
  }
  out << (code == kExitOk ? "recovered\n" : "recovery incomplete\n");
  return code;
}

Result<engine::RecoverRequest> RecoverRequestFrom(const SnapshotCommandLine& line) {
  engine::RecoverRequest request{.selector = {.commit = line.commit, .tag = line.tag_selector},
                                 .dry_run = line.dry_run};
  if (line.at) {
    auto ms = snapshot::ParseTimestampMillis(*line.at);
    if (!ms.ok()) {
      return ms.error().WithContext("--at");
    }
    request.selector.at_ms = *ms;
  }
  return request;
}

void PrintRemoteStatus(const nlohmann::json& status, std::ostream& out) {
  const int64_t behind = status.value("remote_behind_by", int64_t{0});
  out << "remote " << status.value("remote", "") << " (" << status.value("branch", "") << ")\n";
  out << "  local head   " << Short(status.value("local_head", "")) << "\n";
  out << "  remote head  "
      << (status.value("remote_head", "").empty() ? std::string("(none)")
                                                  : Short(status.value("remote_head", "")))
      << "\n";
  out << "  last pushed  "
      << (status.value("last_pushed", "").empty() ? std::string("(never from here)")
                                                  : Short(status.value("last_pushed", "")))
      << "\n";
  if (behind == 0) {
    out << "up to date\n";
  } else if (behind > 0) {
    out << "the remote is behind by " << behind << (behind == 1 ? " snapshot" : " snapshots")
        << "; \"rebound snapshots push\" sends them\n";
  } else {
    out << "the remote has snapshots this repository does not (diverged): pushing will be "
           "refused\n";
  }
}

// prune, push, status: one call each, printed.
int RunMaintenance(const SnapshotCommandLine& line, const SnapshotCommandContext& context,
                   engine::SnapshotController& controller, std::ostream& out, std::ostream& err) {
  Result<nlohmann::json> answer = *line.prune  ? controller.PruneSnapshots(line.keep)
                                  : *line.push ? controller.PushSnapshots()
                                               : controller.SnapshotRemoteStatus();
  if (!answer.ok()) {
    err << "rebound: " << answer.error().message() << "\n";
    return answer.error().category() == ErrorCategory::kValidation ? kExitUsage
                                                                   : ExitCodeFor(answer.error());
  }
  if (context.json) {
    out << answer->dump(2) << "\n";
  } else if (*line.prune) {
    const int64_t kept = answer->value("kept", int64_t{0});
    out << "kept " << kept << (kept == 1 ? " snapshot" : " snapshots") << " (newest "
        << answer->value("keep", 0) << " and tagged ones), pruned " << answer->value("dropped", 0)
        << " (" << answer->value("objects_removed", 0) << " objects removed)\n";
  } else if (*line.push) {
    out << "pushed " << Short(answer->value("head", "")) << " to " << answer->value("remote", "")
        << "\n";
  } else {
    PrintRemoteStatus(*answer, out);
  }
  return kExitOk;
}

int RunOnBackend(const SnapshotCommandLine& line, const SnapshotCommandContext& context,
                 engine::SnapshotController& controller, std::ostream& out, std::ostream& err) {
  auto fail = [&](const Error& error) {
    err << "rebound: " << error.message() << "\n";
    return ExitCodeFor(error);
  };
  if (*line.tag) {
    Status tagged = controller.TagSnapshot(line.tag_commit, line.tag_name);
    if (!tagged.ok()) {
      return fail(tagged.error());
    }
    out << "tagged " << line.tag_commit << " as " << line.tag_name << "\n";
    return kExitOk;
  }
  if (*line.prune || *line.push || *line.remote_status) {
    return RunMaintenance(line, context, controller, out, err);
  }
  Result<nlohmann::json> answer = UnknownError("no command");
  if (*line.capture) {
    answer = controller.CaptureSnapshot(line.message);
  } else if (*line.recover) {
    auto request = RecoverRequestFrom(line);
    if (!request.ok()) {
      err << "rebound: " << request.error().message() << "\n";
      return kExitUsage;
    }
    answer = controller.RecoverSnapshot(*request);
  } else {
    answer = controller.ListSnapshots();
  }
  if (!answer.ok()) {
    return fail(answer.error());
  }
  if (context.json) {
    out << answer->dump(2) << "\n";
    return answer->value("ok", true) ? kExitOk : kExitFailed;
  }
  if (*line.capture) {
    PrintCapture(*answer, out);
  } else if (*line.recover) {
    return PrintRecovery(*answer, out, err);
  } else {
    PrintList(*answer, out);
  }
  return kExitOk;
}

int RunVerify(const SnapshotCommandContext& context, std::ostream& out, std::ostream& err) {
  auto config = LoadConfigFor(context);
  if (!config.ok()) {
    err << "rebound: " << config.error().message() << "\n";
    return kExitUsage;
  }
  const std::string& data_dir = config->daemon.data_dir;
  FileSystem& fs = DefaultFileSystem();
  snapshot::IntegrityInputs inputs{.fs = &fs, .document_path = JoinPath(data_dir, "recovery.json")};
  std::unique_ptr<store::Database> database;
  if (!fs.Exists(JoinPath(data_dir, "rebound.db"))) {
    inputs.database_error = "no database at " + JoinPath(data_dir, "rebound.db");
  } else if (auto opened = store::Database::Open(data_dir); opened.ok()) {
    database = std::move(*opened);
    inputs.database = database.get();
  } else {
    inputs.database_error = opened.error().message();
  }
  const std::string repository = engine::SnapshotRepositoryPath(config->snapshots, data_dir);
  std::unique_ptr<snapshot::GitStore> git;
  if (fs.Exists(repository)) {
    auto opened =
        snapshot::GitStore::Open(repository, {.document_path = config->snapshots.document_path});
    if (!opened.ok()) {
      err << "rebound: " << opened.error().message() << "\n";
      return kExitFailed;
    }
    git = std::move(*opened);
    inputs.git = git.get();
  }
  const snapshot::IntegrityReport report = snapshot::VerifyIntegrity(inputs);
  out << (context.json ? snapshot::IntegrityReportToJson(report).dump(2) + "\n"
                       : snapshot::FormatIntegrityReport(report));
  return report.ok() ? kExitOk : kExitFailed;
}

void PrintRepair(const snapshot::RepairResult& repaired, const std::string& url,
                 std::ostream& out) {
  out << "repair: " << repaired.restored << (repaired.restored == 1 ? " object" : " objects")
      << " fetched back from " << url << "\n";
  for (const std::string& moved : repaired.quarantined) {
    out << "repair: damaged file moved aside to " << moved << "\n";
  }
  for (const std::string& id : repaired.unrepairable) {
    out << "repair: object " << id << " is damaged or missing and the remote lacks it too\n";
  }
}

// Offline only: the repository's objects are replaced under it.
int RunRepair(const SnapshotCommandLine& line, const SnapshotCommandContext& context,
              std::ostream& out, std::ostream& err) {
  auto config = LoadConfigFor(context);
  if (!config.ok()) {
    err << "rebound: " << config.error().message() << "\n";
    return kExitUsage;
  }
  const std::string url = line.repair_from.empty() ? config->snapshots.remote : line.repair_from;
  if (url.empty()) {
    err << "rebound: repair needs a copy to fetch from: pass --from URL or set [snapshots] "
           "remote in "
        << config->path << "\n";
    return kExitUsage;
  }
  const std::string& data_dir = config->daemon.data_dir;
  const std::string repository = engine::SnapshotRepositoryPath(config->snapshots, data_dir);
  if (!config->snapshots.document_path.empty()) {
    err << "rebound: repair works on rebound's own snapshot repository; " << repository
        << " is the application's ([snapshots] document_path): repair it with git (git fsck, "
           "git fetch from a clone)\n";
    return kExitUsage;
  }
  if (!DefaultFileSystem().Exists(repository + "/HEAD")) {
    err << "rebound: no snapshot repository at " << repository
        << "; to bring it back, start with \"rebound serve --recover-from " << url << "\"\n";
    return kExitFailed;
  }
  {
    auto lock = engine::DataDirLock::Acquire(data_dir);
    if (!lock.ok()) {
      err << "rebound: " << lock.error().message() << "; stop the daemon first: repair works "
          << "on the data directory alone\n";
      return kExitFailed;
    }
    auto git = snapshot::GitStore::Open(repository, {.remove_stale_locks = true});
    auto repaired =
        git.ok() ? (*git)->RepairFrom(url) : Result<snapshot::RepairResult>(git.error());
    if (!repaired.ok()) {
      err << "rebound: " << repaired.error().message() << "\n";
      return kExitFailed;
    }
    PrintRepair(*repaired, url, out);
  }
  return RunVerify(context, out, err);
}

}  // namespace

void AddSnapshotCommands(CLI::App& app, SnapshotCommandLine& line) {
  line.capture = app.add_subcommand("capture", "Capture a snapshot of services and module state");
  line.capture->alias("capture-state");
  line.capture->add_option("-m,--message", line.message, "what this snapshot is for");
  line.list = app.add_subcommand("snapshots", "List snapshots (newest first); tag one");
  line.list->require_subcommand(0, 1);
  line.tag = line.list->add_subcommand("tag", "Give a snapshot a name to recover to");
  line.tag->add_option("ID", line.tag_commit, "the snapshot's commit id (or a prefix)")->required();
  line.tag->add_option("NAME", line.tag_name, "the tag, e.g. known-good")->required();
  line.prune = line.list->add_subcommand(
      "prune", "Keep the newest N snapshots and every tagged one; delete the others' documents");
  line.prune->add_option("--keep", line.keep, "N (default: [snapshots] keep)")
      ->check(CLI::Range(1, 1000000));
  line.push = line.list->add_subcommand("push", "Push the snapshots to [snapshots] remote now");
  line.remote_status = line.list->add_subcommand(
      "status", "Compare with [snapshots] remote: is it behind, up to date or diverged");
  line.recover = app.add_subcommand(
      "recover", "Recover module state and services to a snapshot (the newest by default)");
  line.recover->alias("recover-state");
  CLI::Option* commit = line.recover->add_option("--commit", line.commit, "a commit id or prefix");
  CLI::Option* tag = line.recover->add_option("--tag", line.tag_selector, "a tag name");
  CLI::Option* at = line.recover->add_option(
      "--at", line.at, "the last snapshot at or before this UTC time, e.g. 2026-01-01T12:00:00Z");
  commit->excludes(tag)->excludes(at);
  tag->excludes(at);
  line.recover->add_flag("--dry-run", line.dry_run, "print the plan; change nothing");
  line.verify = app.add_subcommand(
      "verify", "Check the database, recovery.json and the snapshot repository for damage");
  line.repair = app.add_subcommand(
      "repair", "Fetch missing or damaged snapshot objects back from the remote, then verify");
  line.repair->add_option("--from", line.repair_from,
                          "git URL to fetch from (default: [snapshots] remote)");
}

std::optional<int> RunSnapshotCommand(const SnapshotCommandLine& line,
                                      const SnapshotCommandContext& context, std::ostream& out,
                                      std::ostream& err) {
  if (*line.verify) {
    return RunVerify(context, out, err);
  }
  if (*line.repair) {
    return RunRepair(line, context, out, err);
  }
  if (!*line.capture && !*line.list && !*line.recover) {
    return std::nullopt;
  }
  auto backend = OpenBackend(context);
  if (!backend.ok()) {
    err << "rebound: " << backend.error().message() << "\n";
    return backend.error().category() == ErrorCategory::kValidation ? kExitUsage : kExitFailed;
  }
  return RunOnBackend(line, context, backend->controller(), out, err);
}

}  // namespace rebound::cli
