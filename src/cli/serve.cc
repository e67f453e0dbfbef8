#include "cli/serve.h"

#include <unistd.h>

#include <climits>

#include "api/daemon_routes.h"
#include "api/event_routes.h"
#include "api/http_server.h"
#include "api/job_routes.h"
#include "api/log_routes.h"
#include "api/metrics_routes.h"
#include "api/reliability_routes.h"
#include "api/service_routes.h"
#include "api/state_routes.h"
#include "api/sync_routes.h"
#include "api/snapshot_routes.h"
#include "api/token.h"
#include "engine/config.h"
#include "engine/daemon.h"
#include "engine/session_restore.h"

namespace rebound::cli {
namespace {

// A helper executable: NAME (rebound-shim, rebound-runner) beside this binary (small: fast
// to start, little memory), else this binary itself through /proc/self/exe, which still
// works after a package upgrade has replaced the file on disk.
std::string HelperExecutable(const std::string& name) {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n > 0) {
    std::string self(path, static_cast<size_t>(n));
    const std::string helper = self.substr(0, self.find_last_of('/') + 1) + name;
    if (::access(helper.c_str(), X_OK) == 0) {
      return helper;
    }
  }
  return "/proc/self/exe";
}

// Every route of the API (docs/api.md), with the collectors /metrics reads at scrape time.
void RegisterRoutes(api::HttpServer& server, engine::Daemon& daemon) {
  jobs::JobController& jobs = daemon.jobs();
  engine::DeferredSnapshots& snapshots = daemon.snapshots();
  api::RegisterServiceRoutes(server, daemon, [&jobs, &snapshots] {
    return nlohmann::json{{"jobs", api::JobsHealthComponent(jobs)},
                          {"snapshots", snapshots.HealthComponent()}};
  });
  api::RegisterJobRoutes(server, jobs);
  api::RegisterReliabilityRoutes(server, daemon);
  api::RegisterSnapshotRoutes(server, daemon.snapshots());
  api::RegisterLogRoutes(server, daemon, DefaultFileSystem(),
                         daemon.config().daemon.data_dir + "/logs");
  api::RegisterEventRoutes(server, daemon.store().journal(), DefaultClock());
  api::RegisterStateRoutes(server, daemon.store().states());
  api::RegisterSyncRoutes(server, daemon);
  api::RegisterDaemonRoutes(server, daemon);
  api::RegisterServiceMetrics(daemon.metrics(), daemon);
  api::RegisterReliabilityMetrics(daemon.metrics(), daemon);
  api::RegisterStoreMetrics(daemon.metrics(), daemon.store().writer());
  api::RegisterJobMetrics(daemon.metrics(), daemon.jobs());
  api::RegisterMetricsRoute(server, daemon.metrics());
}

}  // namespace

int RunServe(const std::string& config_path, std::ostream& err, const std::string& recover_from) {
  auto config = engine::LoadConfig(config_path, engine::ProcessEnvironment());
  if (!config.ok()) {
    err << "rebound: " << config.error().message() << "\n";
    return 1;
  }
  if (!recover_from.empty()) {
    auto restored = engine::RestoreSession(*config, recover_from);
    if (!restored.ok()) {
      err << "rebound: " << restored.error().message() << "\n";
      return 1;
    }
    err << "rebound: " << restored->summary << "\n";
  }
  auto daemon = engine::Daemon::Create({.config = *config,
                                        .rebound_binary = HelperExecutable("rebound-shim"),
                                        .runner_binary = HelperExecutable("rebound-runner")});
  if (!daemon.ok()) {
    err << "rebound: " << daemon.error().message() << "\n";
    return 1;
  }
  auto token = api::LoadOrCreateToken(DefaultFileSystem(), config->daemon.data_dir);
  if (!token.ok()) {
    err << "rebound: " << token.error().message() << "\n";
    return 1;
  }
  engine::Daemon& engine = **daemon;
  api::HttpServer server({.metrics = &engine.metrics()});
  RegisterRoutes(server, engine);
  // Bound before anything starts (an address in use stops the daemon first), served once the
  // services have been launched: its 64 worker threads are not created on their way.
  Status listening = server.Bind(config->daemon.listen_host, config->daemon.listen_port, *token);
  if (!listening.ok()) {
    err << "rebound: cannot listen on " << config->daemon.listen_host << ":"
        << config->daemon.listen_port << ": " << listening.error().message() << "\n";
    return 1;
  }
  (*daemon)->Run([&server] { server.Serve(); });
  server.Stop();
  return 0;
}

}  // namespace rebound::cli
