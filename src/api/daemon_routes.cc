#include "api/daemon_routes.h"

namespace rebound::api {

nlohmann::json DaemonInfoToJson(const engine::DaemonInfo& info) {
  return {{"version", info.version},
          {"pid", info.pid},
          {"started_at_ms", info.started_at_ms},
          {"uptime_seconds", info.uptime_seconds},
          {"data_dir", info.data_dir},
          {"config_path", info.config_path},
          {"config_digest", info.config_digest},
          {"listen", info.listen},
          {"services", info.services}};
}

nlohmann::json ReloadOutcomeToJson(const engine::ReloadOutcome& outcome) {
  return {{"added", outcome.added},
          {"removed", outcome.removed},
          {"changed", outcome.changed},
          {"unchanged", outcome.unchanged},
          {"config_digest", outcome.config_digest}};
}

void RegisterDaemonRoutes(HttpServer& server, engine::DaemonController& daemon) {
  server.Get("/v1/daemon", [&daemon](const HttpRequest&) {
    return JsonResponse(200, DaemonInfoToJson(daemon.Info()));
  });
  server.Post("/v1/daemon/reload", [&daemon](const HttpRequest&) {
    Result<engine::ReloadOutcome> outcome = daemon.Reload();
    if (!outcome.ok()) {
      if (outcome.error().category() == ErrorCategory::kResource) {
        return ErrorResponse(503, "shutting_down", outcome.error().message());
      }
      return ErrorResponse(outcome.error());
    }
    return JsonResponse(200, ReloadOutcomeToJson(*outcome));
  });
}

}  // namespace rebound::api
