#include "engine/daemon.h"

#include <spdlog/spdlog.h>

#include "base/clock.h"
#include "base/version.h"

namespace rebound::engine {
namespace {

std::vector<supervise::ServiceSpec> InStartOrder(const Config& config) {
  std::vector<supervise::ServiceSpec> ordered;
  for (const std::string& name : config.start_order) {
    ordered.push_back(*config.FindService(name));
  }
  return ordered;
}

nlohmann::json ExitJson(const supervise::ExitInfo& exit) {
  return {{"code", exit.exit_code ? nlohmann::json(*exit.exit_code) : nlohmann::json(nullptr)},
          {"signal", exit.signal ? nlohmann::json(*exit.signal) : nlohmann::json(nullptr)},
          {"at_ms", ToUnixMillis(exit.ended)},
          {"description", exit.description}};
}

}  // namespace

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
  REBOUND_RETURN_IF_ERROR(WatchSignals());  // before any thread starts: they inherit the mask
  auto store = store::Store::Open(data_dir);
  if (!store.ok()) {
    return store.error();
  }
  store_ = std::move(*store);
  auto reactor = Reactor::Create();
  if (!reactor.ok()) {
    return reactor.error();
  }
  reactor_ = std::move(*reactor);
  REBOUND_RETURN_IF_ERROR(reactor_->WatchFd(signal_fd_, [this] { OnSignal(); }));
  launcher_ = std::make_unique<supervise::ShimLauncher>(
      supervise::ShimLauncherOptions{.rebound_binary = options_.rebound_binary,
                                     .run_dir = data_dir + "/run",
                                     .log_dir = data_dir + "/logs"},
      *reactor_, fs);
  supervisor_ = std::make_unique<supervise::Supervisor>(InStartOrder(options_.config), *launcher_,
                                                        *reactor_, DefaultClock(), random_, *this);
  OpenJobs(fs);
  return OkStatus();
}

void Daemon::OpenJobs(FileSystem& fs) {
  const std::string& data_dir = options_.config.daemon.data_dir;
  Reactor* reactor = reactor_.get();
  jobs_ = std::make_unique<jobs::JobService>(
      jobs::JobServiceOptions{
          .queues = options_.config.queues,
          .rebound_binary = options_.rebound_binary,
          .run_dir = data_dir + "/run",
          .log_dir = data_dir + "/logs",
          .retention = options_.config.job_retention,
          .warn = [](std::string_view message) { spdlog::warn("jobs: {}", message); }},
      *store_, *reactor_, *reactor_,
      [reactor](std::function<void()> work) { reactor->Post(std::move(work)); }, fs, DefaultClock(),
      random_);
}

Daemon::~Daemon() {
  jobs_.reset();        // first: its commit callbacks are posted to the reactor
  supervisor_.reset();  // before the launcher and reactor it refers to
  launcher_.reset();
  if (signal_fd_ >= 0) {
    ::close(signal_fd_);
  }
}

void Daemon::Journal(const std::string& category, const std::string& kind,
                     const std::string& subject, nlohmann::json data) {
  // Not waited for: the reactor never blocks on a disk flush. Group commit makes it durable
  // within a commit interval; a failure is logged.
  (void)store_->journal().Append(
      {.category = category, .kind = kind, .subject = subject, .data = std::move(data)});
}

void Daemon::Emit(const std::string& kind, const std::string& service, const nlohmann::json& data) {
  const std::string message = data.value("message", "");
  if (kind == "exited" || kind == "fatal" || kind == "launch_failed" || kind == "stop_timeout") {
    spdlog::warn("{}: {}: {}", service, kind, message);
  } else {
    spdlog::info("{}: {}: {}", service, kind, message);
  }
  Journal("service", kind, service, data);
}

void Daemon::Run() {
  spdlog::info("rebound {} serving {} ({} services, data dir {})", kVersion, options_.config.path,
               options_.config.services.size(), options_.config.daemon.data_dir);
  Journal("daemon", "started", "",
          {{"version", kVersion},
           {"config", options_.config.path},
           {"config_digest", options_.config.digest}});
  for (const auto& spec : options_.config.services) {
    for (const auto& [dependency, condition] : spec.depends_on) {
      if (condition == supervise::DependencyCondition::kHealthy) {
        spdlog::warn(
            "{}: depends on {} being healthy; health checks are not available yet, so it waits "
            "for {} to be started (running)",
            spec.name, dependency, dependency);
      }
    }
  }
  // On this thread, which becomes the loop thread: before any signal or API call is handled.
  supervisor_->AdoptAll();
  supervisor_->StartAll();
  if (Status recovered = jobs_->Recover(); !recovered.ok()) {
    spdlog::error("jobs: {}; no job runs until the store is readable and rebound restarts",
                  recovered.error().message());
    jobs_->Stop();
  }
  reactor_->Run();
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
  supervisor_->StopAll([this] { reactor_->Stop(); });
}

std::vector<ServiceStatus> Daemon::ListServices() {
  return reactor_->Call([this] {
    std::vector<ServiceStatus> statuses;
    for (const auto& view : supervisor_->Views()) {
      statuses.push_back(ToStatus(view));
    }
    return statuses;
  });
}

Result<ServiceStatus> Daemon::GetService(const std::string& name) {
  return reactor_->Call([&]() -> Result<ServiceStatus> {
    auto view = supervisor_->View(name);
    if (!view.ok()) {
      return view.error();
    }
    return ToStatus(*view);
  });
}

Result<ServiceStatus> Daemon::Act(const std::string& name,
                                  Status (supervise::Supervisor::*action)(const std::string&)) {
  if (shutting_down_) {
    return ResourceError("the daemon is shutting down");
  }
  return reactor_->Call([&]() -> Result<ServiceStatus> {
    REBOUND_RETURN_IF_ERROR(((*supervisor_).*action)(name));
    return ToStatus(*supervisor_->View(name));
  });
}

Result<ServiceStatus> Daemon::StartService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Start);
}

Result<ServiceStatus> Daemon::StopService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Stop);
}

Result<ServiceStatus> Daemon::RestartService(const std::string& name) {
  return Act(name, &supervise::Supervisor::Restart);
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
  }
  if (view.last_exit) {
    status.last_exit = ExitJson(*view.last_exit);
  }
  return status;
}

}  // namespace rebound::engine
