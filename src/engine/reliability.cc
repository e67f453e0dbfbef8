#include "engine/reliability.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "base/duration.h"
#include "engine/reliability_service.h"
#include "health/memory_watchdog.h"
#include "health/prober_posix.h"

namespace rebound::engine {

using health::HealthStatus;
using resilience::BreakerState;

namespace {

constexpr int kNotifyAttempts = 3;
constexpr auto kNotifyFirstDelay = std::chrono::seconds(1);
constexpr auto kMemoryActionSpacing = std::chrono::seconds(60);

// How long recovery waits for a restarted service to prove itself healthy.
Duration VerifyTimeout(const ServiceSpec& spec, const ServiceReliability& settings) {
  if (settings.recovery.verify_timeout > Duration::zero()) {
    return settings.recovery.verify_timeout;
  }
  const auto& actions = settings.recovery.actions;
  const bool resets_breaker = std::find(actions.begin(), actions.end(),
                                        RecoveryStep::kResetBreaker) != actions.end();
  if (!settings.health) {
    return spec.stop_timeout + std::chrono::seconds(10) +
           (resets_breaker ? Duration::zero() : settings.breaker.open_duration);
  }
  const health::ProbeSpec& probe = *settings.health;
  Duration timeout = spec.stop_timeout + probe.start_period +
                     probe.interval * (probe.success_threshold + 1) + probe.timeout;
  if (!resets_breaker) {  // an open breaker closes only after its open duration and trials
    timeout += settings.breaker.open_duration + probe.interval * settings.breaker.half_open_calls;
  }
  return timeout;
}

}  // namespace

// Runs blocking probes (exec, names to resolve) on the pool and hands their results back on
// the reactor thread, where ServiceProbe lives.
class Reliability::PostingProber final : public health::Prober {
 public:
  PostingProber(WorkerPool& pool, Reactor& reactor, std::shared_ptr<std::atomic<bool>> stopping)
      : pool_prober_(pool), reactor_(reactor), stopping_(std::move(stopping)) {}
  void Run(const health::ProbeSpec& spec,
           std::function<void(health::ProbeResult)> done) override {
    pool_prober_.Run(spec, [this, done = std::move(done)](health::ProbeResult result) {
      if (!*stopping_) {
        reactor_.Post([done, result = std::move(result)] { done(result); });
      }
    });
  }

 private:
  health::PoolProber pool_prober_;
  Reactor& reactor_;
  std::shared_ptr<std::atomic<bool>> stopping_;
};

Reliability::Reliability(ReliabilityOptions options)
    : options_(std::move(options)),
      pool_(std::make_unique<WorkerPool>(options_.worker_threads)),
      pool_prober_(std::make_unique<PostingProber>(*pool_, options_.reactor, stopping_)),
      prober_(std::make_unique<health::SocketProber>(options_.reactor, options_.reactor,
                                                     options_.clock, *pool_prober_)),
      coordinator_(*this, options_.reactor, options_.clock) {
  if (options_.metrics != nullptr) {
    probe_seconds_ = &options_.metrics->AddHistogram(
        "rebound_probe_duration_seconds", "How long a health probe took (failed ones included)",
        {"service", "type"}, kLatencyBuckets);
    probe_results_ = &options_.metrics->AddCounter(
        "rebound_probe_results_total", "Health probe results and heartbeats, by outcome",
        {"service", "result"});
  }
}

Result<std::unique_ptr<Reliability>> Reliability::Create(ReliabilityOptions options) {
  std::unique_ptr<Reliability> reliability(new Reliability(std::move(options)));
  const Config& config = reliability->options_.config;
  for (const ServiceSpec& spec : config.services) {
    REBOUND_RETURN_IF_ERROR(reliability->AddService(spec, *config.FindReliability(spec.name)));
  }
  return reliability;
}

Reliability::~Reliability() {
  Shutdown();
  if (memory_timer_) {
    options_.reactor.Cancel(*memory_timer_);
  }
  for (auto& [name, service] : services_) {
    if (service->notify) {
      options_.reactor.UnwatchFd(service->notify->fd());
    }
  }
}

void Reliability::Shutdown() {
  *stopping_ = true;
  pool_.reset();
}

Status Reliability::AddService(const ServiceSpec& spec, const ServiceReliability& settings) {
  auto service = std::make_unique<Service>(Service{spec, settings});
  const std::string name = spec.name;
  auto breaker = resilience::CircuitBreaker::Create(name, settings.breaker, options_.clock);
  if (!breaker.ok()) {
    return breaker.error().WithContext("services." + name + ".breaker");
  }
  service->breaker = std::move(*breaker);
  service->breaker->SetListener(
      [this, name](const resilience::CircuitBreaker&, const resilience::BreakerTransition& t) {
        OnBreakerTransition(name, t);
      });
  if (settings.health) {
    service->probe = std::make_unique<health::ServiceProbe>(
        *settings.health, *prober_, options_.reactor, options_.clock,
        [this, name](const health::HealthChange& change) { OnHealthChange(name, change); });
    Service* raw = service.get();
    service->probe->SetResultListener([this, raw](const health::ProbeResult& result) {
      CountProbe(*raw, result);
      FeedBreaker(*raw, result);
    });
    if (settings.health->type == health::ProbeType::kNotify) {
      auto socket = health::NotifySocket::Bind(options_.run_dir + "/" + name + ".notify");
      if (!socket.ok()) {
        return socket.error().WithContext("notify socket of " + name);
      }
      service->notify = std::move(*socket);
      REBOUND_RETURN_IF_ERROR(options_.reactor.WatchFd(
          service->notify->fd(), [this, raw] { ReadNotifications(*raw); }));
    }
  }
  REBOUND_RETURN_IF_ERROR(
      coordinator_.AddService(name, settings.recovery, VerifyTimeout(spec, settings)));
  services_[name] = std::move(service);
  return OkStatus();
}

void Reliability::RemoveService(const std::string& name) {
  const auto found = services_.find(name);
  if (found == services_.end()) {
    return;
  }
  if (found->second->notify) {
    options_.reactor.UnwatchFd(found->second->notify->fd());
  }
  coordinator_.RemoveService(name);
  services_.erase(found);  // its probe cancels its timers; late results find it gone
}

Reliability::Service* Reliability::Find(const std::string& name) {
  const auto found = services_.find(name);
  return found == services_.end() ? nullptr : found->second.get();
}

const Reliability::Service* Reliability::Find(const std::string& name) const {
  return const_cast<Reliability*>(this)->Find(name);
}

std::map<std::string, std::string> Reliability::ServiceEnvironment(const std::string& name) const {
  std::map<std::string, std::string> env;
  const Service* service = Find(name);
  if (service == nullptr || !service->probe) {
    return env;
  }
  if (service->settings.health->type == health::ProbeType::kHeartbeat) {
    const DaemonSettings& daemon = options_.config.daemon;
    const bool ipv6 = daemon.listen_host.find(':') != std::string::npos;
    env["REBOUND_HEARTBEAT_URL"] = "http://" + (ipv6 ? "[" + daemon.listen_host + "]"
                                                     : daemon.listen_host) +
                                   ":" + std::to_string(daemon.listen_port) + "/v1/heartbeat/" +
                                   name;
    env["REBOUND_TOKEN_FILE"] = daemon.data_dir + "/token";  // the bearer token the POST needs
  }
  if (!service->notify) {
    return env;
  }
  env["NOTIFY_SOCKET"] = service->notify->address();
  if (service->settings.health->watchdog > Duration::zero()) {
    env["WATCHDOG_USEC"] = std::to_string(
        std::chrono::duration_cast<std::chrono::microseconds>(service->settings.health->watchdog)
            .count());
  }
  return env;
}

void Reliability::Attach(supervise::Supervisor& supervisor) {
  supervisor_ = &supervisor;
  const DaemonSettings& daemon = options_.config.daemon;
  bool any_limit = daemon.memory_floor > 0;
  for (const auto& [name, service] : services_) {
    any_limit = any_limit || service->settings.memory.max_rss_bytes > 0;
  }
  if (any_limit) {
    memory_timer_ = options_.reactor.ScheduleAt(
        options_.clock.MonotonicNow() + daemon.memory_check_interval, [this] { CheckMemory(); });
  }
}

// Work that must not run inside a breaker or probe callback (it may call back into them).
void Reliability::Later(std::function<void()> work) {
  options_.reactor.ScheduleAt(options_.clock.MonotonicNow(), std::move(work));
}

void Reliability::Emit(const std::string& kind, const std::string& name,
                       const nlohmann::json& data) {
  options_.emit(kind, name, data);
}

void Reliability::OnServiceRunning(const std::string& name, bool adopted) {
  Service* service = Find(name);
  if (service == nullptr) {
    return;
  }
  service->running = true;
  service->pid = supervisor_ != nullptr ? supervisor_->View(name)->pid : std::nullopt;
  if (service->probe) {
    service->probe->OnServiceStarted(adopted);
  }
  coordinator_.OnServiceStarted(name);
  // Without a probe, running is healthy: recoveries waiting for it may go on.
  Later([this, name] { coordinator_.OnHealthChanged(name); });
}

void Reliability::OnServiceNotRunning(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr || !service->running) {
    return;
  }
  service->running = false;
  service->pid.reset();
  if (service->probe) {
    service->probe->OnServiceStopped();
  }
}

void Reliability::CountProbe(const Service& service, const health::ProbeResult& result) {
  if (probe_results_ == nullptr) {
    return;
  }
  const std::string& name = service.spec.name;
  probe_results_->WithLabels({name, result.ok ? "success" : "failure"}).Increment();
  const health::ProbeType type = service.settings.health->type;
  if (type != health::ProbeType::kHeartbeat && type != health::ProbeType::kNotify) {
    probe_seconds_->WithLabels({name, std::string(health::ProbeTypeName(type))})
        .Observe(ToSeconds(result.latency));
  }
}

void Reliability::FeedBreaker(Service& service, const health::ProbeResult& result) {
  // Failures of a service still starting are expected; they must not trip its breaker.
  if (!result.ok && service.probe->status() == HealthStatus::kStarting) {
    return;
  }
  // An open breaker lets nothing through until its open duration has passed; then probe
  // results are its half-open trial calls.
  if (service.breaker->TryAcquirePermission()) {
    result.ok ? service.breaker->OnSuccess(result.latency)
              : service.breaker->OnFailure(result.latency);
  }
}

void Reliability::OnHealthChange(const std::string& name, const health::HealthChange& change) {
  const std::string to(health::HealthStatusName(change.to));
  const std::string message =
      change.to == HealthStatus::kUnhealthy
          ? "Health check failed for " + name + ": " + change.reason
          : name + " is " + to + " (was " + std::string(health::HealthStatusName(change.from)) +
                ")";
  Emit("health_" + to, name, {{"message", message}, {"from", health::HealthStatusName(change.from)},
                              {"to", to}, {"reason", change.reason}});
  Later([this, name, unhealthy = change.to == HealthStatus::kUnhealthy, reason = change.reason] {
    if (unhealthy) {
      coordinator_.OnFailureDetected(name, "health check failed: " + reason);
    }
    coordinator_.OnHealthChanged(name);
    if (supervisor_ != nullptr) {
      supervisor_->OnHealthChanged(name);
    }
  });
}

void Reliability::OnBreakerTransition(const std::string& name,
                                      const resilience::BreakerTransition& t) {
  if (t.from == t.to) {
    return;  // a reset of a closed breaker: nothing happened
  }
  const std::string to(resilience::BreakerStateName(t.to));
  if (t.to == BreakerState::kOpen) {
    Emit("breaker_opened", name,
         {{"message", "Circuit breaker '" + name + "' opened, triggering auto-recovery"},
          {"reason", t.reason}});
  } else {
    std::string upper;
    for (char c : to) {
      upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    Emit("breaker_" + to, name,
         {{"message", "Circuit breaker '" + name + "': Transitioning to " + upper},
          {"reason", t.reason}});
  }
  Later([this, name, opened = t.to == BreakerState::kOpen, reason = t.reason] {
    if (opened) {
      coordinator_.OnFailureDetected(name, "circuit breaker opened: " + reason);
    }
    coordinator_.OnHealthChanged(name);
    if (supervisor_ != nullptr) {
      supervisor_->OnHealthChanged(name);
    }
  });
}

void Reliability::ReadNotifications(Service& service) {
  for (const std::string& datagram : service.notify->ReceiveAll()) {
    service.probe->OnNotify(health::ParseNotifyMessage(datagram));
  }
}

Status Reliability::Heartbeat(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  if (!service->probe || service->settings.health->type != health::ProbeType::kHeartbeat) {
    return ConflictError("service '" + name +
                         "' has no heartbeat probe; set [services." + name +
                         ".health] type = \"heartbeat\" to send heartbeats");
  }
  service->probe->OnHeartbeat();
  return OkStatus();
}

Result<std::string> Reliability::Report(const std::string& name, bool success,
                                        Duration latency) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  if (service->breaker->TryAcquirePermission()) {
    success ? service->breaker->OnSuccess(latency) : service->breaker->OnFailure(latency);
  }
  return std::string(resilience::BreakerStateName(service->breaker->state()));
}

Result<bool> Reliability::TriggerRecovery(const std::string& name) {
  return coordinator_.TriggerManually(name);
}

Status Reliability::ResetBreakerAndRecovery(const std::string& name) {
  Service* service = Find(name);
  if (service == nullptr) {
    return NotFoundError("no service named '" + name + "'");
  }
  service->breaker->Reset();
  return coordinator_.Reset(name);
}

bool Reliability::IsHealthy(const std::string& name) const {
  const Service* service = Find(name);
  if (service == nullptr || !service->running) {
    return false;
  }
  const BreakerState breaker = service->breaker->state();
  if (breaker == BreakerState::kOpen || breaker == BreakerState::kForcedOpen) {
    return false;
  }
  return !service->probe || service->probe->status() == HealthStatus::kHealthy;
}

bool Reliability::IsWanted(const std::string& name) const {
  auto view = supervisor_ != nullptr ? supervisor_->View(name) : Result<supervise::ServiceView>(
                                                                     NotFoundError(name));
  return view.ok() && view->wanted;
}

std::vector<std::string> Reliability::DependenciesOf(const std::string& name) const {
  std::vector<std::string> names;
  if (const Service* service = Find(name)) {
    for (const supervise::Dependency& dependency : service->spec.depends_on) {
      names.push_back(dependency.name);
    }
  }
  return names;
}

void Reliability::ResetBreaker(const std::string& name) {
  if (Service* service = Find(name)) {
    service->breaker->Reset();
  }
}

void Reliability::RestartService(const std::string& name) {
  if (supervisor_ != nullptr) {
    Emit("recovery_restart", name, {{"message", "Restarting " + name + " to recover it"}});
    (void)supervisor_->Restart(name);
  }
}

void Reliability::RestoreModules(const std::string& name, const std::vector<std::string>& modules,
                                 WallTime failed_at, std::function<void(Status)> done) {
  std::string list;
  for (const std::string& module : modules) {
    list += (list.empty() ? "" : ", ") + module;
  }
  Emit("recovery_restore_module", name,
       {{"message", "Restoring module state from the newest snapshot before the failure: " + list}});
  if (!options_.restore_modules) {
    done(NotFoundError("no snapshots are available to restore from"));
    return;
  }
  options_.restore_modules(modules, failed_at, std::move(done));
}

void Reliability::RunCommand(const std::string& name, const std::vector<std::string>& command,
                             Duration timeout, std::function<void(Status)> done) {
  Emit("recovery_exec", name, {{"message", "Running recovery command " + command.front()}});
  if (!pool_) {
    done(ResourceError("the daemon is shutting down"));
    return;
  }
  health::ProbeSpec spec{.type = health::ProbeType::kExec, .command = command,
                         .timeout = timeout};
  Reactor& reactor = options_.reactor;
  pool_->Submit([spec, done = std::move(done), &reactor, stopping = stopping_] {
    const health::ProbeResult result = health::ProbeExec(spec);
    if (*stopping) {
      return;
    }
    reactor.Post([done, result] {
      done(result.ok ? OkStatus() : Status(UnknownError(result.reason)));
    });
  });
}

void Reliability::NotifyOperator(const std::string& name, const std::string& url,
                                 const nlohmann::json& payload) {
  if (!pool_) {
    spdlog::warn("{}: not notifying {}: the daemon is shutting down", name, url);
    return;
  }
  pool_->Submit([this, name, url, body = payload.dump()] {
    const auto target = health::ParseHttpUrl(url);  // validated with the config
    Duration delay = kNotifyFirstDelay;
    for (int attempt = 1; attempt <= kNotifyAttempts; ++attempt) {
      httplib::Client client(target->host, target->port);
      client.set_connection_timeout(std::chrono::seconds(5));
      client.set_read_timeout(std::chrono::seconds(5));
      const auto response = client.Post(target->path, body, "application/json");
      if (response && response->status >= 200 && response->status < 300) {
        spdlog::info("{}: notified {}", name, url);
        return;
      }
      const std::string why = response ? "status " + std::to_string(response->status)
                                       : httplib::to_string(response.error());
      spdlog::warn("{}: notifying {} failed (attempt {}/{}): {}", name, url, attempt,
                   kNotifyAttempts, why);
      if (*stopping_) {
        return;  // no retries while the daemon stops
      }
      if (attempt < kNotifyAttempts) {
        std::this_thread::sleep_for(delay);
        delay *= 2;
      }
    }
    if (*stopping_) {
      return;
    }
    options_.reactor.Post([this, name, url] {
      Emit("notify_failed", name,
           {{"message", "could not notify " + url + " after " + std::to_string(kNotifyAttempts) +
                            " attempts"}});
    });
  });
}

// Reads /proc on a worker thread (a pass over every process), then acts on the reactor.
void Reliability::CheckMemory() {
  memory_timer_.reset();
  std::map<std::string, std::pair<int, health::MemoryLimit>> running;  // name -> pgid, limit
  for (const auto& [name, service] : services_) {
    if (service->running && !service->pid) {
      service->pid = supervisor_->View(name)->pid;  // the shim reports it once it has started
    }
    if (service->running && service->pid) {
      running[name] = {*service->pid, service->settings.memory};
    }
  }
  pool_->Submit([this, running, stopping = stopping_] {
    std::vector<health::MemoryReading> readings;
    auto groups = health::RssByProcessGroup();
    for (const auto& [name, group] : running) {
      if (!groups.ok()) {
        break;  // no reading this round: acting on none is safer than on a guess
      }
      if (const auto found = groups->find(group.first); found != groups->end()) {
        readings.push_back({name, found->second, group.second});
      }
    }
    auto available = health::SystemAvailableMemory();
    if (*stopping) {
      return;
    }
    options_.reactor.Post([this, readings = std::move(readings),
                           available = available.ok() ? std::optional(*available)
                                                      : std::nullopt] {
      ActOnMemory(readings, available);
    });
  });
}

void Reliability::ActOnMemory(const std::vector<health::MemoryReading>& readings,
                              std::optional<int64_t> available) {
  const MonoTime now = options_.clock.MonotonicNow();
  for (const health::MemoryVerdict& verdict :
       health::CheckMemory(readings, available, options_.config.daemon.memory_floor)) {
    Service& service = *Find(verdict.service);
    if (!service.running ||
        (service.memory_acted_at && now - *service.memory_acted_at < kMemoryActionSpacing)) {
      continue;  // gone meanwhile, or the last action needs time to take effect
    }
    service.memory_acted_at = now;
    Emit("memory_exceeded", verdict.service,
         {{"message", verdict.service + ": " + verdict.reason + "; action: " +
                          std::string(health::MemoryActionName(verdict.action))},
          {"measured_bytes", verdict.measured_bytes},
          {"limit_bytes", verdict.limit_bytes}});
    if (verdict.action == health::MemoryAction::kRestart) {
      (void)supervisor_->Restart(verdict.service);
    } else if (service.pid && ::kill(-*service.pid, verdict.signal) != 0) {
      spdlog::warn("{}: memory watchdog could not signal process group {}: {}", verdict.service,
                   *service.pid, std::strerror(errno));
    }
  }
  memory_timer_ = options_.reactor.ScheduleAt(
      now + options_.config.daemon.memory_check_interval, [this] { CheckMemory(); });
}

}  // namespace rebound::engine
