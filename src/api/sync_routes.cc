#include "api/sync_routes.h"

namespace rebound::api {
namespace {

HttpResponse ForceSyncResponse(engine::SyncController& controller) {
  Result<nlohmann::json> report = controller.ForceSync();
  if (!report.ok()) {
    return ErrorResponse(report.error());
  }
  return JsonResponse(200, *report);
}

}  // namespace

void RegisterSyncRoutes(HttpServer& server, engine::SyncController& controller) {
  for (const char* path : {"/api/sync/force", "/v1/sync/force"}) {
    server.Post(path, [&controller](const HttpRequest&) { return ForceSyncResponse(controller); });
  }
  server.Get("/v1/sync", [&controller](const HttpRequest&) {
    return JsonResponse(200, controller.SyncStatus());
  });
}

}  // namespace rebound::api
