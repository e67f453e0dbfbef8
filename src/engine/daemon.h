#pragma once

// Daemon: `rebound serve` minus its HTTP edge. Owns the data directory (locked: one daemon
// per directory), the store, the reactor, the shim launcher and the supervisor; re-adopts
// what an earlier daemon left running, starts the rest in dependency order, and on SIGTERM
// or SIGINT stops everything in reverse order (a second signal kills what is left). SIGHUP
// (or Reload) re-reads the configuration file and applies the difference (daemon_reload.cc).
//
//   auto daemon = Daemon::Create({.config = *config, .rebound_binary = "/proc/self/exe"});
//   HttpServer server; RegisterServiceRoutes(server, **daemon);   // the API, on its threads
//   (*daemon)->Run();                                             // until shut down
//
// Create() blocks SIGTERM, SIGINT and SIGHUP in the calling thread: call it before starting
// any other thread, so that the reactor's signalfd receives them. The controller methods are
// thread-safe: the ones that act run on the reactor thread through Reactor::Call and must not
// be called from it; ListServices, GetService and Snapshot read the status board (any thread).

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/random.h"
#include "base/worker_pool.h"
#include "engine/capture_throttle.h"
#include "engine/config.h"
#include "engine/daemon_controller.h"
#include "engine/data_dir_lock.h"
#include "engine/deferred_snapshots.h"
#include "engine/desired_state.h"
#include "engine/reactor.h"
#include "engine/reliability.h"
#include "engine/reliability_controller.h"
#include "engine/service_controller.h"
#include "engine/snapshot_service.h"
#include "engine/status_board.h"
#include "engine/sync_controller.h"
#include "jobs/job_service.h"
#include "store/store.h"
#include "store/sync_service.h"
#include "supervise/launcher_shim.h"
#include "supervise/supervisor.h"

namespace rebound::engine {

struct DaemonOptions {
  Config config;
  std::string rebound_binary;  // provides `rebound shim`
  // Provides `rebound runner` for durable jobs ([jobs] runner = "shared", the default); empty:
  // the jobs run under a shim each, as with runner = "per-job".
  std::string runner_binary = {};
};

class Daemon final : public ServiceController,
                     public ReliabilityController,
                     public DaemonController,
                     public SyncController,
                     public supervise::EventSink {
 public:
  static Result<std::unique_ptr<Daemon>> Create(DaemonOptions options);
  ~Daemon() override;

  // Runs until a graceful shutdown has stopped every service; then flushes the store.
  // `after_launches` runs on this thread once the first launches have been issued, before
  // the loop starts: what the services do not need (the HTTP server's threads) starts there.
  void Run(const std::function<void()>& after_launches = {});
  // Begins the graceful shutdown, as SIGTERM does. Thread-safe.
  void RequestShutdown();

  // The configuration the daemon started with (Info() has the one in force after reloads).
  const Config& config() const { return options_.config; }
  store::Store& store() { return *store_; }
  // Where the engine counts what it does; the API renders it at /metrics.
  MetricsRegistry& metrics() { return metrics_; }
  // Durable jobs: the JobController for the API, and JobsSummary() for health and metrics.
  jobs::JobService& jobs() { return *jobs_; }
  // Captures, lists and recovers snapshots with this daemon's live service status. The
  // repository opens after the first launches (Run): calls made before wait for it, and
  // if it cannot be opened they answer its error (HealthComponent() shows it too).
  DeferredSnapshots& snapshots() { return *snapshots_; }

  // Reads come from the status board (no hop onto the reactor): any thread, the reactor's too.
  std::vector<ServiceStatus> ListServices() override;
  std::shared_ptr<const ServicesSnapshot> Snapshot() override;
  Result<ServiceStatus> GetService(const std::string& name) override;
  Result<ServiceStatus> StartService(const std::string& name) override;
  Result<ServiceStatus> StopService(const std::string& name) override;
  Result<ServiceStatus> RestartService(const std::string& name) override;
  bool IsShuttingDown() const override { return shutting_down_; }

  nlohmann::json ReliabilityStatus() override;
  Result<bool> TriggerRecovery(const std::string& name) override;
  Status ResetBreaker(const std::string& name) override;
  Status Heartbeat(const std::string& name) override;
  Result<std::string> ReportCall(const std::string& name, bool success, Duration latency) override;

  DaemonInfo Info() override;
  Result<ReloadOutcome> Reload() override;

  // daemon_sync.cc: the [sync] service (any thread).
  Result<nlohmann::json> ForceSync() override;
  nlohmann::json SyncStatus() override;

 private:
  explicit Daemon(DaemonOptions options);

  Status Open();
  void OpenJobs(FileSystem& fs);
  Status WatchSignals();
  void OnSignal();
  void BeginShutdown(const std::string& reason);
  void Emit(const std::string& kind, const std::string& service,
            const nlohmann::json& data) override;
  void Journal(const std::string& category, const std::string& kind, const std::string& subject,
               nlohmann::json data);
  // An event's log line (if any) and journal entry, as Emit and Journal make them.
  struct PendingEvent {
    std::string log_line = {};  // empty: journal only
    bool warning = false;
    store::Event event = {};
  };
  // True on the thread that runs Run() (the reactor's, and before it the startup's): its
  // events wait in pending_events_ until FlushEvents, at the end of the reactor round (or of
  // the startup, or of an API call), so that the log and journal writes of a respawn's
  // "exited", "restart_scheduled" and "starting" do not delay the spawn that follows them.
  bool DefersEvents() const;
  void Write(PendingEvent pending);
  void WriteNow(PendingEvent pending);
  // Writes what the calling thread deferred; a no-op on any other thread.
  void FlushEvents();
  ServiceStatus ToStatus(const supervise::ServiceView& view) const;
  // On the reactor (or before/after it runs): every service's status onto the board. Runs
  // after each reactor round, and at the end of every call that changes state, so that the
  // caller's next read already sees its change.
  void PublishStatus();
  void RecheckPidsSoon(bool pid_pending);
  // reactor_->Call(fn), then PublishStatus() on the loop before the caller gets the result.
  template <typename Fn>
  auto CallAndPublish(Fn fn) {
    return reactor_->Call([this, &fn] {
      auto result = fn();
      FlushEvents();  // journaled before the caller gets the result, as it always was
      PublishStatus();
      return result;
    });
  }
  // Runs a person's start/stop/restart and remembers whether the service is now stopped by
  // hand, so that a daemon restarted after a crash respects it.
  Result<ServiceStatus> Act(const std::string& name,
                            Status (supervise::Supervisor::*action)(const std::string&),
                            bool stopped_by_hand);
  void LoadDesiredState();
  // Creates [daemon] run_dir (PrepareRunDir) if set, then locks the services' run directory.
  Status TakeRunDir();
  // Refuses a [daemon] run_dir that moved while shims recorded in the old one still run
  // (CheckRunDirMove), then remembers the one in use.
  Status CheckRunDir(FileSystem& fs);
  // `config`'s specs, dependencies first, with what health checks add to their environment
  // (NOTIFY_SOCKET, WATCHDOG_USEC, REBOUND_HEARTBEAT_URL).
  std::vector<supervise::ServiceSpec> SpecsInStartOrder(const Config& config) const;
  supervise::StartGate Gate(const Config& config);
  void TrackRunning(const std::string& kind, const std::string& service);
  void CountExit(const std::string& kind, const std::string& service, const nlohmann::json& data);
  // On the reactor thread: swaps in `config`'s services (daemon_reload.cc).
  Result<ReloadOutcome> ApplyConfig(Config config);
  // Health checks, breakers and recovery follow a reload (daemon_reload.cc).
  Status ReconfigureReliability(const Config& next, const ReloadOutcome& outcome);
  void OnReloadSignal();
  // daemon_snapshots.cc: scheduled and shutdown captures.
  std::map<std::string, snapshot::ServiceRecord> ServiceRecordsOnLoop() const;
  void CaptureInBackground(const std::string& message);
  // On the snapshot worker, once the services have been launched: opens the repository
  // (libgit2, CA certificates, a new repository's creation), or reports why it cannot.
  void OpenSnapshotsInBackground();
  void ScheduleSnapshots();
  void CaptureOnShutdown();
  void FinishSnapshots();
  // [snapshots] before_recovery and on_events: a capture when such an event is journaled,
  // each trigger key at most once per trigger_interval.
  void CaptureOnEvent(const std::string& category, const std::string& kind,
                      const std::string& subject);
  void CaptureThrottled(const std::string& key, const std::string& message);
  // The restore_module recovery action: on the snapshot worker, `done` back on the loop.
  void RestoreModulesInBackground(const std::vector<std::string>& modules, WallTime failed_at,
                                  std::function<void(Status)> done);
  // daemon_sync.cc: [sync] rounds on the snapshot worker, every interval and on demand.
  void OpenSync();
  void ScheduleSync();
  // On the snapshot worker: one round, counted; its journal entry is posted to the loop.
  store::SyncReport RunSyncRound(const std::string& trigger);
  void JournalSyncRound(const store::SyncReport& report, const std::string& trigger);
  // POSTs a recovery's outcome to every recovery.notify_url the services configure.
  void NotifyRecovery(const nlohmann::json& outcome);

  DaemonOptions options_;          // options_.config: the configuration in force (reactor thread)
  const std::string config_path_;  // never changes: readable from any thread
  // Metrics, declared in one block (names are API: docs/operations.md).
  MetricsRegistry metrics_;
  CounterFamily& exits_total_;    // rebound_service_exits_total{service, reason}
  CounterFamily& reloads_total_;  // rebound_config_reloads_total{result}
  Counter& sync_rounds_total_;     // rebound_sync_rounds_total
  Counter& sync_conflicts_total_;  // rebound_sync_conflicts_total
  Gauge& snapshots_available_;     // rebound_snapshots_available
  const WallTime started_at_ = std::chrono::system_clock::now();
  const MonoTime started_mono_ = std::chrono::steady_clock::now();
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<DataDirLock> run_dir_lock_;  // the services' run directory: one daemon each
  // Declared before the store: the store's threads may still report a failed append while
  // it closes.
  std::atomic<int64_t> journal_failures_{0};  // appends the store refused (logged, see Journal)
  std::atomic<std::thread::id> defer_events_on_{};  // see DefersEvents
  std::vector<PendingEvent> pending_events_;        // that thread only
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<DeferredSnapshots> snapshots_;
  // Before the worker that runs its rounds, so that the worker is destroyed (joined) first.
  std::unique_ptr<store::SyncService> sync_;  // null without [sync]
  SyncSettings sync_settings_;                // as at startup: [sync] changes need a restart
  bool job_runner_shared_ = false;            // as at startup: [jobs] runner needs a restart
  std::unique_ptr<WorkerPool> snapshot_worker_;  // started after signals are blocked
  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<supervise::ShimLauncher> launcher_;
  std::unique_ptr<Reliability> reliability_;
  std::unique_ptr<CaptureThrottle> capture_throttle_;  // created at the first trigger
  DesiredState desired_;  // reactor thread
  Random random_{Random::EntropySeed()};
  std::unique_ptr<supervise::Supervisor> supervisor_;
  std::unique_ptr<jobs::JobService> jobs_;
  StatusBoard status_board_;
  static constexpr Duration kFirstPidRecheck = std::chrono::milliseconds(10);
  Duration pid_recheck_delay_ = kFirstPidRecheck;  // reactor thread, as the next one
  bool pid_recheck_pending_ = false;
  std::atomic<bool> shutting_down_{false};
  int signal_fd_ = -1;
};

}  // namespace rebound::engine
