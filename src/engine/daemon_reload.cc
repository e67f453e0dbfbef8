// Daemon::Reload and SIGHUP: re-read the configuration file and apply the difference.

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/config_diff.h"
#include "engine/daemon.h"

namespace rebound::engine {
namespace {

// What cannot change under a running daemon: its data directory (locked, holds the store)
// and its listening socket (opened before the daemon runs).
Status CheckFixedSettings(const Config& current, const Config& next) {
  if (next.daemon.data_dir != current.daemon.data_dir) {
    return ValidationError(next.path + ": daemon.data_dir changed from " + current.daemon.data_dir +
                           " to " + next.daemon.data_dir +
                           "; a reload cannot move the data directory: restart the daemon");
  }
  if (ServicesRunDir(next.daemon) != ServicesRunDir(current.daemon)) {
    return ValidationError(next.path + ": daemon.run_dir changed from " +
                           ServicesRunDir(current.daemon) + " to " + ServicesRunDir(next.daemon) +
                           "; a reload cannot move the records of running shims: restart the "
                           "daemon once its services are stopped");
  }
  if (next.daemon.listen_host != current.daemon.listen_host ||
      next.daemon.listen_port != current.daemon.listen_port) {
    return ValidationError(next.path +
                           ": daemon.listen changed; a reload cannot move the API: restart "
                           "the daemon (or put the old address back)");
  }
  return OkStatus();
}

bool SyncSettingsDiffer(const SyncSettings& a, const SyncSettings& b) {
  return a.enabled != b.enabled || a.interval != b.interval || a.strategy != b.strategy ||
         a.modules != b.modules;
}

}  // namespace

Result<ReloadOutcome> Daemon::Reload() {
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down; it does not reload its configuration");
  }
  // Read and validated here, on the API thread: the reactor never waits on the disk.
  Result<Config> config = LoadConfig(config_path_, ProcessEnvironment());
  if (!config.ok()) {
    reloads_total_.WithLabels({"refused"}).Increment();
    return config.error();
  }
  return CallAndPublish(
      [this, &config]() -> Result<ReloadOutcome> { return ApplyConfig(std::move(*config)); });
}

void Daemon::OnReloadSignal() {
  spdlog::info("SIGHUP: reloading {}", config_path_);
  Result<ReloadOutcome> outcome = ResourceError("the daemon is shutting down");
  if (!shutting_down_) {
    Result<Config> config = LoadConfig(config_path_, ProcessEnvironment());
    outcome = config.ok() ? ApplyConfig(std::move(*config)) : Result<ReloadOutcome>(config.error());
  }
  if (!outcome.ok()) {
    reloads_total_.WithLabels({"refused"}).Increment();
    spdlog::error("reload refused, nothing changed: {}", outcome.error().message());
  }
}

Result<ReloadOutcome> Daemon::ApplyConfig(Config config) {
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down; it does not reload its configuration");
  }
  Status fixed = CheckFixedSettings(options_.config, config);
  if (!fixed.ok()) {
    reloads_total_.WithLabels({"refused"}).Increment();
    return fixed.error();
  }
  ReloadOutcome outcome = DiffServices(options_.config, config);
  // Health checks first: a new notify socket must exist before a service is started with it.
  Status reliable = ReconfigureReliability(config, outcome);
  Status applied =
      reliable.ok() ? supervisor_->Reconfigure(SpecsInStartOrder(config)) : reliable;
  if (!applied.ok()) {
    reloads_total_.WithLabels({"refused"}).Increment();
    return applied.error();
  }
  for (const std::string& name : outcome.removed) {
    reliability_->RemoveService(name);
  }
  supervisor_->SetStartGate(Gate(config));
  options_.config = std::move(config);
  reloads_total_.WithLabels({"applied"}).Increment();
  spdlog::info("reloaded {}: {} added, {} removed, {} changed, {} unchanged", options_.config.path,
               outcome.added.size(), outcome.removed.size(), outcome.changed.size(),
               outcome.unchanged.size());
  if (SyncSettingsDiffer(sync_settings_, options_.config.sync)) {
    spdlog::warn("[sync] changed in {}: it takes effect at the next start of rebound; syncing "
                 "goes on as configured at startup",
                 options_.config.path);
  }
  if (options_.config.job_runner_shared != job_runner_shared_) {
    spdlog::warn("[jobs] runner changed in {}: it takes effect at the next start of rebound; new "
                 "job attempts go on under {}",
                 options_.config.path,
                 job_runner_shared_ ? "the shared job runner" : "a shim each (per-job)");
  }
  Journal("daemon", "reloaded", "",
          {{"config_digest", outcome.config_digest},
           {"added", outcome.added},
           {"removed", outcome.removed},
           {"changed", outcome.changed}});
  return outcome;
}

// Added services and services whose health, recovery, breaker or memory settings changed get
// new ones; a running service keeps being watched (a notify one counts as ready).
Status Daemon::ReconfigureReliability(const Config& next, const ReloadOutcome& outcome) {
  for (const ServiceSpec& spec : next.services) {
    const ServiceReliability& settings = *next.FindReliability(spec.name);
    const ServiceReliability* before = options_.config.FindReliability(spec.name);
    const bool added = std::find(outcome.added.begin(), outcome.added.end(), spec.name) !=
                       outcome.added.end();
    if (!added && before != nullptr && SameReliability(*before, settings)) {
      continue;
    }
    reliability_->RemoveService(spec.name);
    REBOUND_RETURN_IF_ERROR(reliability_->AddService(spec, settings));
    if (auto view = supervisor_->View(spec.name);
        view.ok() && view->state == supervise::ServiceState::kRunning) {
      reliability_->OnServiceRunning(spec.name, /*adopted=*/true);
    }
  }
  return OkStatus();
}

}  // namespace rebound::engine
