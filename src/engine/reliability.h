#pragma once

// Reliability: the daemon's detect-and-recover half. Per service it owns the health probe
// (health/ServiceProbe), the notify socket for Type=notify services, a circuit breaker fed
// by probe results and by client reports, and its recovery (RecoveryCoordinator); across
// services, the memory watchdog. It tells the supervisor when health changes (the start
// gate) and restarts services through it.
//
//   auto reliability = Reliability::Create({.config = config, .reactor = reactor, ...});
//   spec.env.merge((*reliability)->ServiceEnvironment(spec.name));   // NOTIFY_SOCKET, ...
//   (*reliability)->Attach(supervisor);
//   ... supervisor events: OnServiceRunning(name, adopted) / OnServiceNotRunning(name)
//   ... API: Heartbeat, Report, TriggerRecovery, ResetBreaker, ReliabilityJson
//
// Logs and journal events in the words of seed 001 ("Circuit breaker 'db' opened,
// triggering auto-recovery", "Triggering recovery for: db (attempt 1/3)", ...).
// Not thread-safe: the reactor thread only (the daemon's API methods hop onto it).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/worker_pool.h"
#include "engine/config.h"
#include "engine/reactor.h"
#include "engine/recovery_coordinator.h"
#include "health/notify_socket.h"
#include "health/prober.h"
#include "health/service_probe.h"
#include "health/socket_prober.h"
#include "resilience/circuit_breaker.h"
#include "supervise/supervisor.h"

namespace rebound::engine {

struct ReliabilityOptions {
  const Config& config;
  Reactor& reactor;
  const Clock& clock;
  std::string run_dir;  // notify sockets live here
  // Logs and journals an event; data["message"] is the sentence.
  std::function<void(const std::string& kind, const std::string& service,
                     const nlohmann::json& data)>
      emit;
  int worker_threads = 8;  // probes, exec actions and webhooks
  // Where probe latencies and results are counted (rebound_probe_*); none in tests.
  MetricsRegistry* metrics = nullptr;
  // The restore_module action: restores the modules from the newest snapshot taken at or
  // before `failed_at`, off the loop, and calls `done` back on it. Unset: the action fails.
  std::function<void(const std::vector<std::string>& modules, WallTime failed_at,
                     std::function<void(Status)> done)>
      restore_modules = {};
};

// What `rebound status` and /health show of one service.
struct HealthView {
  std::string health;     // "healthy", "unhealthy", "starting", "unknown"; "none" (no probe)
  std::string breaker;    // "closed", "open", "half_open", "forced_open"
  std::string recovery;   // "idle", "recovering", ...
  std::string status_text;  // the STATUS= of a notify service
};

class Reliability final : public RecoveryHost {
 public:
  static Result<std::unique_ptr<Reliability>> Create(ReliabilityOptions options);
  ~Reliability() override;

  // Environment a service gets on top of its own: NOTIFY_SOCKET and WATCHDOG_USEC (notify
  // probes), REBOUND_HEARTBEAT_URL and REBOUND_TOKEN_FILE (heartbeat probes).
  std::map<std::string, std::string> ServiceEnvironment(const std::string& name) const;
  // REQUIRES: once, before the supervisor starts anything. Starts the memory watchdog.
  void Attach(supervise::Supervisor& supervisor);
  // A service added or removed by a config reload. REQUIRES for Add: a name not present.
  Status AddService(const ServiceSpec& spec, const ServiceReliability& settings);
  void RemoveService(const std::string& name);
  // Finishes the work on the worker threads (probes, webhooks) before the reactor stops.
  void Shutdown();

  void OnServiceRunning(const std::string& name, bool adopted);
  void OnServiceNotRunning(const std::string& name);

  Status Heartbeat(const std::string& name);
  // A client's call to the service: feeds its breaker. Returns the breaker state after it.
  Result<std::string> Report(const std::string& name, bool success, Duration latency);
  Result<bool> TriggerRecovery(const std::string& name);
  // Closes the breaker and forgets the recovery state (seed 001's reset).
  Status ResetBreakerAndRecovery(const std::string& name);

  HealthView View(const std::string& name) const;
  // GET /reliability, less the shutdown status the daemon adds.
  nlohmann::json ReliabilityJson() const;

  // RecoveryHost.
  bool IsHealthy(const std::string& name) const override;
  bool IsWanted(const std::string& name) const override;
  std::vector<std::string> DependenciesOf(const std::string& name) const override;
  void ResetBreaker(const std::string& name) override;
  void RestartService(const std::string& name) override;
  void RestoreModules(const std::string& name, const std::vector<std::string>& modules,
                      WallTime failed_at,
                      std::function<void(Status)> done) override;
  void RunCommand(const std::string& name, const std::vector<std::string>& command,
                  Duration timeout, std::function<void(Status)> done) override;
  void NotifyOperator(const std::string& name, const std::string& url,
                      const nlohmann::json& payload) override;
  void Emit(const std::string& kind, const std::string& name,
            const nlohmann::json& data) override;

 private:
  struct Service;
  class PostingProber;

  explicit Reliability(ReliabilityOptions options);
  Service* Find(const std::string& name);
  const Service* Find(const std::string& name) const;
  void OnBreakerTransition(const std::string& name, const resilience::BreakerTransition& t);
  void OnHealthChange(const std::string& name, const health::HealthChange& change);
  void FeedBreaker(Service& service, const health::ProbeResult& result);
  void CountProbe(const Service& service, const health::ProbeResult& result);
  void ReadNotifications(Service& service);
  void CheckMemory();
  void ActOnMemory(const std::vector<health::MemoryReading>& readings,
                   std::optional<int64_t> available);
  void Later(std::function<void()> work);

  ReliabilityOptions options_;
  // Set before the worker threads are joined: what they finish then is dropped, not posted
  // to a reactor that no longer runs.
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<PostingProber> pool_prober_;      // exec probes, host names to resolve
  std::unique_ptr<health::SocketProber> prober_;  // tcp and http on the reactor, else pool
  RecoveryCoordinator coordinator_;
  std::map<std::string, std::unique_ptr<Service>> services_;
  supervise::Supervisor* supervisor_ = nullptr;
  std::optional<TimerId> memory_timer_;
  HistogramFamily* probe_seconds_ = nullptr;  // rebound_probe_duration_seconds{service,type}
  CounterFamily* probe_results_ = nullptr;    // rebound_probe_results_total{service,result}
};

}  // namespace rebound::engine
