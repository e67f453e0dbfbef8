#include "api/service_routes.h"

namespace rebound::api {
namespace {

constexpr std::string_view kRunning = "running";

using ServiceAction =
    Result<engine::ServiceStatus> (engine::ServiceController::*)(const std::string&);

// Running, its probe (if any) says healthy, and its breaker lets calls through.
bool IsHealthy(const engine::ServiceStatus& service) {
  const bool probe_ok = service.health == "none" || service.health == "healthy";
  const bool breaker_ok = service.breaker != "open" && service.breaker != "forced_open";
  return service.state == kRunning && probe_ok && breaker_ok;
}

HttpResponse ShuttingDown() {
  return ErrorResponse(503, "shutting_down",
                       "the daemon is shutting down and accepts no new service commands");
}

RouteHandler ActionRoute(engine::ServiceController& controller, ServiceAction action) {
  return [&controller, action](const HttpRequest& request) {
    if (controller.IsShuttingDown()) {
      return ShuttingDown();
    }
    Result<engine::ServiceStatus> service = (controller.*action)(request.PathParam("name"));
    if (!service.ok()) {
      return ErrorResponse(service.error());
    }
    return JsonResponse(202, ServiceToJson(*service));
  };
}

}  // namespace

nlohmann::json ServiceToJson(const engine::ServiceStatus& service) {
  nlohmann::json json = {{"name", service.name},
                         {"state", service.state},
                         {"pid", nullptr},
                         {"restarts", service.restarts},
                         {"uptime_seconds", service.uptime_seconds},
                         {"last_exit", nullptr},
                         {"required", service.required},
                         {"message", service.message},
                         {"health", service.health},
                         {"breaker", service.breaker},
                         {"recovery", service.recovery},
                         {"status_text", service.status_text}};
  if (service.pid) {
    json["pid"] = *service.pid;
  }
  if (service.last_exit) {
    json["last_exit"] = *service.last_exit;
  }
  return json;
}

HttpResponse HealthResponse(const std::vector<engine::ServiceStatus>& services,
                            bool shutting_down) {
  bool healthy = true;
  nlohmann::json components = nlohmann::json::object();
  for (const engine::ServiceStatus& service : services) {
    const bool ok = IsHealthy(service);
    healthy = healthy && (ok || !service.required);
    components[service.name] = {{"status", ok ? "healthy" : "unhealthy"},
                                {"state", service.state},
                                {"required", service.required},
                                {"message", service.message},
                                {"probe", service.health},
                                {"breaker", service.breaker}};
  }
  const char* status = shutting_down ? "shutting_down" : (healthy ? "healthy" : "unhealthy");
  return JsonResponse(healthy && !shutting_down ? 200 : 503,
                      {{"status", status}, {"components", std::move(components)}});
}

void RegisterServiceRoutes(HttpServer& server, engine::ServiceController& controller,
                           ExtraHealthComponents extra_health) {
  server.Get("/health", [&controller, extra_health](const HttpRequest&) {
    HttpResponse response = HealthResponse(controller.ListServices(), controller.IsShuttingDown());
    if (extra_health) {
      response.body["components"].update(extra_health());
    }
    return response;
  });
  server.Get("/v1/services", [&controller](const HttpRequest&) {
    nlohmann::json services = nlohmann::json::array();
    for (const engine::ServiceStatus& service : controller.ListServices()) {
      services.push_back(ServiceToJson(service));
    }
    return JsonResponse(200, {{"services", std::move(services)}});
  });
  server.Get("/v1/services/:name", [&controller](const HttpRequest& request) {
    Result<engine::ServiceStatus> service = controller.GetService(request.PathParam("name"));
    if (!service.ok()) {
      return ErrorResponse(service.error());
    }
    return JsonResponse(200, ServiceToJson(*service));
  });
  server.Post("/v1/services/:name/start",
              ActionRoute(controller, &engine::ServiceController::StartService));
  server.Post("/v1/services/:name/stop",
              ActionRoute(controller, &engine::ServiceController::StopService));
  server.Post("/v1/services/:name/restart",
              ActionRoute(controller, &engine::ServiceController::RestartService));
}

}  // namespace rebound::api
