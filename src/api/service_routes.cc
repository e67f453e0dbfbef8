#include "api/service_routes.h"

#include <memory>
#include <mutex>

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

// The last /health answer and what it was made of. With 100 services, building and serializing
// the body cost ~4x the rest of a request (docs/benchmarks.md), yet it only changes with a
// service's status (the snapshot's version), the shutdown, or the extra components.
class HealthCache {
 public:
  std::optional<HttpResponse> Find(uint64_t version, bool shutting_down,
                                   const nlohmann::json& extra) const {
    std::shared_ptr<const std::string> body;
    int status = 0;
    {
      std::lock_guard lock(mutex_);
      if (body_ == nullptr || version != version_ || shutting_down != shutting_down_ ||
          extra != extra_) {
        return std::nullopt;
      }
      body = body_;
      status = status_;
    }
    return TextResponse(status, *body, "application/json");  // copied outside the lock
  }
  void Store(uint64_t version, bool shutting_down, nlohmann::json extra,
             const HttpResponse& response) {
    auto body = std::make_shared<const std::string>(*response.text);
    std::lock_guard lock(mutex_);
    version_ = version;
    shutting_down_ = shutting_down;
    extra_ = std::move(extra);
    status_ = response.status;
    body_ = std::move(body);
  }

 private:
  mutable std::mutex mutex_;
  uint64_t version_ = 0;  // GUARDED_BY(mutex_), as the rest
  bool shutting_down_ = false;
  nlohmann::json extra_;
  int status_ = 0;
  std::shared_ptr<const std::string> body_;
};

RouteHandler HealthRoute(engine::ServiceController& controller,
                         ExtraHealthComponents extra_health) {
  auto cache = std::make_shared<HealthCache>();
  return [&controller, extra_health = std::move(extra_health), cache](const HttpRequest&) {
    std::shared_ptr<const engine::ServicesSnapshot> snapshot = controller.Snapshot();
    const bool shutting_down = controller.IsShuttingDown();
    nlohmann::json extra = extra_health ? extra_health() : nlohmann::json::object();
    if (std::optional<HttpResponse> cached = cache->Find(snapshot->version, shutting_down, extra)) {
      return std::move(*cached);
    }
    HttpResponse built = HealthResponse(snapshot->services, shutting_down);
    built.body["components"].update(extra);
    HttpResponse response =
        TextResponse(built.status, SerializeJson(built.body), "application/json");
    cache->Store(snapshot->version, shutting_down, std::move(extra), response);
    return response;
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
  server.Get("/health", HealthRoute(controller, std::move(extra_health)));
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
