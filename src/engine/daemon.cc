#include "engine/daemon.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/clock.h"
#include "base/path.h"
#include "base/version.h"
#include "engine/run_dir.h"

namespace rebound::engine {
namespace {

// Events worth a warning in the log; the rest are info.
bool IsWarning(const std::string& kind) {
  static const std::set<std::string> kWarnings = {
      "exited",          "fatal",          "launch_failed",     "stop_timeout",
      "health_unhealthy", "breaker_opened", "recovery_failed",  "needs_manual_intervention",
      "memory_exceeded", "dependency_timeout", "notify_failed", "optional_dependency_unmet",
      "respawn_unwatched", "respawn_revoke_failed"};
  return kWarnings.count(kind) > 0;
}

nlohmann::json ExitJson(const supervise::ExitInfo& exit) {
  return {{"code", exit.exit_code ? nlohmann::json(*exit.exit_code) : nlohmann::json(nullptr)},
          {"signal", exit.signal ? nlohmann::json(*exit.signal) : nlohmann::json(nullptr)},
          {"at_ms", ToUnixMillis(exit.ended)},
          {"description", exit.description}};
}

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      config_path_(options_.config.path),
      exits_total_(metrics_.AddCounter("rebound_service_exits_total",
                                       "Service process exits, by reason: success (code 0), "
                                       "failure (non-zero code), signal, launch_failed",
                                       {"service", "reason"})),
      reloads_total_(metrics_.AddCounter("rebound_config_reloads_total",
                                         "Configuration reloads, by result (applied, refused)",
                                         {"result"})),
      sync_rounds_total_(metrics_
                             .AddCounter("rebound_sync_rounds_total",
                                         "Sync rounds run ([sync]: scheduled and forced)", {})
                             .WithLabels({})),
      sync_conflicts_total_(
          metrics_
              .AddCounter("rebound_sync_conflicts_total",
                          "Modules whose store write lost a compare-and-set race in a sync "
                          "round (retried next round)",
                          {})
              .WithLabels({})),
      snapshots_available_(metrics_
                               .AddGauge("rebound_snapshots_available",
                                         "1 once the snapshot repository is open; 0 while it "
                                         "opens after the first launches, or when it cannot be "
                                         "opened (then snapshots are unavailable)",
                                         {})
                               .WithLabels({})) {}

Result<std::unique_ptr<Daemon>> Daemon::Create(DaemonOptions options) {
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options)));
  Status opened = daemon->Open();
  if (!opened.ok()) {
    return opened.error();
  }
  return daemon;
}

Status Daemon::Open() {
  const std::string& data_dir = options_.config.daemon.data_dir;
  FileSystem& fs = DefaultFileSystem();
  for (const std::string& dir : {data_dir, data_dir + "/run", data_dir + "/logs"}) {
    REBOUND_RETURN_IF_ERROR(fs.CreateDirs(dir));
  }
  auto lock = DataDirLock::Acquire(data_dir);
  if (!lock.ok()) {
    return lock.error();
  }
  lock_ = std::move(*lock);
  REBOUND_RETURN_IF_ERROR(TakeRunDir());
  REBOUND_RETURN_IF_ERROR(WatchSignals());  // before any thread starts: they inherit the mask
  auto store = store::Store::Open(data_dir);
  if (!store.ok()) {
    return store.error();
  }
  store_ = std::move(*store);
  // Checked now, opened after the first launches (OpenSnapshotsInBackground): a repository
  // that is misplaced by the configuration stops the daemon before anything starts.
  REBOUND_RETURN_IF_ERROR(snapshot::GitStore::CheckLocation(
      SnapshotRepositoryPath(options_.config.snapshots, data_dir),
      {.document_path = options_.config.snapshots.document_path}));
  snapshots_ = std::make_unique<DeferredSnapshots>([this, config = options_.config] {
    return SnapshotService::Open(config, *store_, this, DefaultClock());
  });
  snapshot_worker_ = std::make_unique<WorkerPool>(1);
  OpenSync();
  auto reactor = Reactor::Create();
  if (!reactor.ok()) {
    return reactor.error();
  }
  reactor_ = std::move(*reactor);
  REBOUND_RETURN_IF_ERROR(reactor_->WatchFd(signal_fd_, [this] { OnSignal(); }));
  launcher_ = std::make_unique<supervise::ShimLauncher>(
      // A service's exit record is not fsynced: this daemon journals the exit, and a power
      // loss that could lose the record ends the service too (docs/shim.md). Shims restart
      // their service themselves while the supervisor allows it (docs/shim.md).
      supervise::ShimLauncherOptions{.rebound_binary = options_.rebound_binary,
                                     .run_dir = ServicesRunDir(options_.config.daemon),
                                     .log_dir = data_dir + "/logs",
                                     .exit_records = FileDurability::kAtomicOnly,
                                     .respawn = true},
      *reactor_, fs);
  auto reliability = Reliability::Create(
      {.config = options_.config,
       .reactor = *reactor_,
       .clock = DefaultClock(),
       .run_dir = data_dir + "/run",
       .emit = [this](const std::string& kind, const std::string& service,
                      const nlohmann::json& data) { Emit(kind, service, data); },
       .metrics = &metrics_,
       .restore_modules = [this](const std::vector<std::string>& modules, WallTime failed_at,
                                 std::function<void(Status)> done) {
         RestoreModulesInBackground(modules, failed_at, std::move(done));
       }});
  if (!reliability.ok()) {
    return reliability.error();
  }
  reliability_ = std::move(*reliability);
  supervisor_ = std::make_unique<supervise::Supervisor>(SpecsInStartOrder(options_.config),
                                                        *launcher_, *reactor_, DefaultClock(),
                                                        random_, *this);
  supervisor_->SetStartGate(Gate(options_.config));
  reliability_->Attach(*supervisor_);
  snapshots_->SetNotifier([this](const nlohmann::json& outcome) { NotifyRecovery(outcome); });
  LoadDesiredState();
  REBOUND_RETURN_IF_ERROR(CheckRunDir(fs));
  OpenJobs(fs);
  reactor_->SetAfterRound([this] {
    FlushEvents();
    PublishStatus();
  });
  PublishStatus();  // readers before the loop runs see every service, not an empty list
  return OkStatus();
}

void Daemon::LoadDesiredState() {
  auto desired = DesiredState::Load(store_->states());
  if (!desired.ok()) {
    spdlog::warn("cannot read what was stopped by hand ({}); starting every service",
                 desired.error().message());
    return;
  }
  desired_ = std::move(*desired);
  for (const ServiceSpec& spec : options_.config.services) {
    supervisor_->Preset(spec.name, desired_.IsStoppedByHand(spec.name),
                        desired_.Restarts(spec.name));
  }
}

// Locked even when it is DATA_DIR/run: another daemon's run_dir may name that directory.
Status Daemon::TakeRunDir() {
  const std::string& data_dir = options_.config.daemon.data_dir;
  const std::string run_dir = ServicesRunDir(options_.config.daemon);
  if (run_dir != JoinPath(data_dir, "run")) {
    if (Status prepared = PrepareRunDir(run_dir); !prepared.ok()) {
      return prepared.error().WithContext(config_path_);
    }
  }
  auto run_dir_lock = DataDirLock::AcquireRunDir(run_dir, data_dir);
  if (!run_dir_lock.ok()) {
    return run_dir_lock.error().WithContext(config_path_);
  }
  run_dir_lock_ = std::move(*run_dir_lock);
  return OkStatus();
}

// The run directory in use is remembered with the desired state (as "" for the default, so
// a daemon that never set run_dir has nothing to write).
Status Daemon::CheckRunDir(FileSystem& fs) {
  const std::string default_dir = JoinPath(options_.config.daemon.data_dir, "run");
  const std::string current = ServicesRunDir(options_.config.daemon);
  const std::string previous = desired_.run_dir().empty() ? default_dir : desired_.run_dir();
  REBOUND_RETURN_IF_ERROR(CheckRunDirMove(fs, config_path_, previous, current));
  if (desired_.SetRunDir(current == default_dir ? "" : current)) {
    desired_.Save(store_->states());
  }
  return OkStatus();
}

std::vector<supervise::ServiceSpec> Daemon::SpecsInStartOrder(const Config& config) const {
  std::vector<supervise::ServiceSpec> ordered;
  for (const std::string& name : config.start_order) {
    supervise::ServiceSpec spec = *config.FindService(name);
    for (auto& [variable, value] : reliability_->ServiceEnvironment(name)) {
      spec.env[variable] = value;
    }
    ordered.push_back(std::move(spec));
  }
  return ordered;
}

supervise::StartGate Daemon::Gate(const Config& config) {
  return {.is_healthy = [this](const std::string& name) { return reliability_->IsHealthy(name); },
          .startup_timeout = config.daemon.startup_timeout,
          .check_interval = config.daemon.dependency_check_interval};
}


void Daemon::OpenJobs(FileSystem& fs) {
  const std::string& data_dir = options_.config.daemon.data_dir;
  if (!options_.config.job_runner_fallback.empty()) {
    spdlog::warn("jobs: {}", options_.config.job_runner_fallback);
  }
  job_runner_shared_ = options_.config.job_runner_shared;
  Reactor* reactor = reactor_.get();
  jobs_ = std::make_unique<jobs::JobService>(
      jobs::JobServiceOptions{
          .queues = options_.config.queues,
          .rebound_binary = options_.rebound_binary,
          .runner_binary = options_.config.job_runner_shared ? options_.runner_binary : "",
          .run_dir = data_dir + "/run",
          .log_dir = data_dir + "/logs",
          .retention = options_.config.job_retention,
          .warn = [](std::string_view message) { spdlog::warn("jobs: {}", message); }},
      *store_, *reactor_, *reactor_,
      [reactor](std::function<void()> work) { reactor->Post(std::move(work)); }, fs, DefaultClock(),
      random_);
  snapshots_->UseJobCounts(jobs_->counts());  // system_status.jobs without counting the table
}

Daemon::~Daemon() {
  jobs_.reset();  // first: its commit callbacks are posted to the reactor
  if (reliability_) {
    reliability_->Shutdown();  // its worker threads first: they post to the reactor
  }
  supervisor_.reset();  // before the launcher and reactor it refers to
  reliability_.reset();
  launcher_.reset();
  if (signal_fd_ >= 0) {
    ::close(signal_fd_);
  }
}

void Daemon::Journal(const std::string& category, const std::string& kind,
                     const std::string& subject, nlohmann::json data) {
  // Stamped now, written now or at the end of the round (DefersEvents).
  Write({.event = {.time_ms = ToUnixMillis(DefaultClock().WallNow()),
                   .category = category,
                   .kind = kind,
                   .subject = subject,
                   .data = std::move(data)}});
}

bool Daemon::DefersEvents() const { return defer_events_on_.load() == std::this_thread::get_id(); }

void Daemon::Write(PendingEvent pending) {
  if (DefersEvents()) {
    pending_events_.push_back(std::move(pending));
  } else {
    WriteNow(std::move(pending));
  }
}

void Daemon::WriteNow(PendingEvent pending) {
  if (!pending.log_line.empty()) {
    if (pending.warning) {
      spdlog::warn("{}", pending.log_line);
    } else {
      spdlog::info("{}", pending.log_line);
    }
  }
  // Before the move below; the capture itself runs on the snapshot worker.
  CaptureOnEvent(pending.event.category, pending.event.kind, pending.event.subject);
  std::string what =
      pending.event.category + " " + pending.event.kind + " " + pending.event.subject;
  // Not waited for: the reactor never blocks on a disk flush. Group commit makes it durable
  // within a commit interval. A failure (a full disk, say) is logged: the first ten, then one
  // in a thousand, so that a disk that stays full does not flood the log as well.
  store_->journal().Append(
      std::move(pending.event), [this, what = std::move(what)](Result<int64_t> seq) {
        if (seq.ok()) {
          return;
        }
        const int64_t failures = ++journal_failures_;
        if (failures <= 10 || failures % 1000 == 0) {
          spdlog::error("journal: event {} not recorded ({} failed so far): {}", what, failures,
                        seq.error().message());
        }
      });
}

// Only the deferring thread owns pending_events_: a call from any other thread (an API call
// run inline once the reactor has closed, during shutdown) has nothing of its own to flush.
void Daemon::FlushEvents() {
  if (!DefersEvents()) {
    return;
  }
  std::vector<PendingEvent> pending;
  pending.swap(pending_events_);
  for (PendingEvent& event : pending) {
    WriteNow(std::move(event));
  }
}

void Daemon::Emit(const std::string& kind, const std::string& service, const nlohmann::json& data) {
  CountExit(kind, service, data);
  Write({.log_line = service + ": " + kind + ": " + data.value("message", ""),
         .warning = IsWarning(kind),
         .event = {.time_ms = ToUnixMillis(DefaultClock().WallNow()),
                   .category = "service",
                   .kind = kind,
                   .subject = service,
                   .data = data}});
  TrackRunning(kind, service);
}

// Probes watch a service only while its process runs and is not being stopped.
void Daemon::TrackRunning(const std::string& kind, const std::string& service) {
  if (!reliability_) {
    return;
  }
  if (kind == "started" || kind == "adopted") {
    reliability_->OnServiceRunning(service, kind == "adopted");
    if (auto view = supervisor_->View(service);
        view.ok() && desired_.SetRestarts(service, view->restarts)) {
      desired_.Save(store_->states());  // so that a re-adopting daemon carries the count on
    }
  } else if (kind == "exited" || kind == "stopped" || kind == "stopping" || kind == "fatal" ||
             kind == "launch_failed") {
    reliability_->OnServiceNotRunning(service);
  }
}

// Exits by reason, for rebound_service_exits_total. An exit we asked for carries no code.
void Daemon::CountExit(const std::string& kind, const std::string& service,
                       const nlohmann::json& data) {
  std::string reason;
  if (kind == "launch_failed") {
    reason = "launch_failed";
  } else if (kind != "exited") {
    return;
  } else if (data.contains("signal") && data["signal"].is_number()) {
    reason = "signal";
  } else if (data.contains("exit_code") && data["exit_code"].is_number()) {
    reason = data["exit_code"] == 0 ? "success" : "failure";
  } else {
    reason = "stopped";
  }
  exits_total_.WithLabels({service, reason}).Increment(data.value("restarts", 1.0));
}

DaemonInfo Daemon::Info() {
  return reactor_->Call([this] {
    const Config& config = options_.config;
    const std::string& host = config.daemon.listen_host;
    return DaemonInfo{.version = kVersion,
                      .pid = static_cast<int64_t>(::getpid()),
                      .started_at_ms = ToUnixMillis(started_at_),
                      .uptime_seconds = ToSeconds(std::chrono::steady_clock::now() - started_mono_),
                      .data_dir = config.daemon.data_dir,
                      .config_path = config.path,
                      .config_digest = config.digest,
                      .listen = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                ":" + std::to_string(config.daemon.listen_port),
                      .services = static_cast<int64_t>(config.services.size())};
  });
}

void Daemon::Run(const std::function<void()>& after_launches) {
  spdlog::info("rebound {} serving {} ({} services, data dir {})", kVersion, options_.config.path,
               options_.config.services.size(), options_.config.daemon.data_dir);
  Journal("daemon", "started", "",
          {{"version", kVersion},
           {"config", options_.config.path},
           {"config_digest", options_.config.digest}});
  // On this thread, which becomes the loop thread: before any signal or API call is handled.
  // Its events are written after all services have been launched, then after each round.
  // Flushed after each phase, so that a phase that hangs leaves the log of those before it.
  defer_events_on_ = std::this_thread::get_id();
  supervisor_->AdoptAll();
  FlushEvents();
  supervisor_->StartAll();
  FlushEvents();
  // The first task of the snapshot worker: every capture, restore and sync round queues
  // behind it, and API calls wait for it (DeferredSnapshots).
  OpenSnapshotsInBackground();
  if (after_launches) {
    after_launches();
  }
  if (Status recovered = jobs_->Recover(); !recovered.ok()) {
    spdlog::error("jobs: {}; no job runs until the store is readable and rebound restarts",
                  recovered.error().message());
    jobs_->Stop();
  }
  ScheduleSnapshots();
  ScheduleSync();
  FlushEvents();
  PublishStatus();
  reactor_->Run();
  FlushEvents();
  defer_events_on_ = std::thread::id();
  reliability_->Shutdown();
  FinishSnapshots();
  Journal("daemon", "stopped", "", nlohmann::json::object());
  store_->Close();  // commits everything queued, including the event above
  spdlog::info("rebound stopped");
}

void Daemon::RequestShutdown() {
  reactor_->Post([this] { BeginShutdown("shutdown requested"); });
}

void Daemon::BeginShutdown(const std::string& reason) {
  if (shutting_down_.exchange(true)) {
    return;
  }
  spdlog::info("{}: stopping services in reverse dependency order", reason);
  Journal("daemon", "stopping", "", {{"reason", reason}});
  jobs_->Stop();  // running jobs go on under their shims; the next daemon re-adopts them
  CaptureOnShutdown();
  supervisor_->StopAll([this] { reactor_->Stop(); });
}

std::vector<ServiceStatus> Daemon::ListServices() {
  return WithUptimes(*status_board_.Current(), std::chrono::system_clock::now());
}

std::shared_ptr<const ServicesSnapshot> Daemon::Snapshot() { return status_board_.Current(); }

Result<ServiceStatus> Daemon::GetService(const std::string& name) {
  std::shared_ptr<const ServicesSnapshot> snapshot = status_board_.Current();
  for (const ServiceStatus& service : snapshot->services) {
    if (service.name == name) {
      ServiceStatus found = service;
      if (found.running_since) {
        found.uptime_seconds = ToSeconds(std::chrono::system_clock::now() - *found.running_since);
      }
      return found;
    }
  }
  return NotFoundError("no service named '" + name + "'");
}

void Daemon::PublishStatus() {
  std::vector<ServiceStatus> statuses;
  bool pid_pending = false;
  for (const auto& view : supervisor_->Views()) {
    statuses.push_back(ToStatus(view));
    pid_pending = pid_pending || (view.state == supervise::ServiceState::kRunning && !view.pid);
  }
  status_board_.Publish(std::move(statuses));
  RecheckPidsSoon(pid_pending);
}

// A service's pid comes from the child record its shim writes a moment after the start, read
// on demand, with no event of its own: until every running service's pid is known, the loop
// wakes up again (after 10 ms, then less and less often) so that the next round publishes it.
void Daemon::RecheckPidsSoon(bool pid_pending) {
  if (!pid_pending) {
    pid_recheck_delay_ = kFirstPidRecheck;
    return;
  }
  if (pid_recheck_pending_ || !reactor_->InLoopThread()) {
    return;
  }
  pid_recheck_pending_ = true;
  reactor_->ScheduleAt(std::chrono::steady_clock::now() + pid_recheck_delay_,
                       [this] { pid_recheck_pending_ = false; });
  pid_recheck_delay_ = std::min<Duration>(pid_recheck_delay_ * 2, std::chrono::seconds(1));
}

Result<ServiceStatus> Daemon::Act(const std::string& name,
                                  Status (supervise::Supervisor::*action)(const std::string&),
                                  bool stopped_by_hand) {
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down");
  }
  return CallAndPublish([&]() -> Result<ServiceStatus> {
    REBOUND_RETURN_IF_ERROR(((*supervisor_).*action)(name));
    if (desired_.IsStoppedByHand(name) != stopped_by_hand) {
      desired_.SetStoppedByHand(name, stopped_by_hand);
      desired_.Save(store_->states());
    }
    return ToStatus(*supervisor_->View(name));
  });
}

Result<ServiceStatus> Daemon::StartService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Start, false);
}

Result<ServiceStatus> Daemon::StopService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Stop, true);
}

Result<ServiceStatus> Daemon::RestartService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Restart, false);
}

ServiceStatus Daemon::ToStatus(const supervise::ServiceView& view) const {
  ServiceStatus status{.name = view.name,
                       .state = std::string(supervise::ServiceStateName(view.state)),
                       .restarts = view.restarts,
                       .message = view.message};
  if (view.pid) {
    status.pid = *view.pid;
  }
  if (view.state == supervise::ServiceState::kRunning && view.started) {
    status.uptime_seconds = ToSeconds(std::chrono::system_clock::now() - *view.started);
    status.running_since = *view.started;
  }
  if (view.last_exit) {
    status.last_exit = ExitJson(*view.last_exit);
  }
  const HealthView health = reliability_->View(view.name);
  status.health = health.health;
  status.breaker = health.breaker;
  status.recovery = health.recovery;
  status.status_text = health.status_text;
  return status;
}

nlohmann::json Daemon::ReliabilityStatus() {
  nlohmann::json status = reactor_->Call([this] { return reliability_->ReliabilityJson(); });
  status["graceful_shutdown"] = {{"shutting_down", shutting_down_.load()}};
  return status;
}

Result<bool> Daemon::TriggerRecovery(const std::string& name) {
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down");
  }
  return CallAndPublish([&] { return reliability_->TriggerRecovery(name); });
}

Status Daemon::ResetBreaker(const std::string& name) {
  return CallAndPublish([&] { return reliability_->ResetBreakerAndRecovery(name); });
}

Status Daemon::Heartbeat(const std::string& name) {
  return CallAndPublish([&] { return reliability_->Heartbeat(name); });
}

Result<std::string> Daemon::ReportCall(const std::string& name, bool success, Duration latency) {
  return CallAndPublish([&] { return reliability_->Report(name, success, latency); });
}

}  // namespace rebound::engine
