#include "api/reliability_routes.h"

#include <cmath>

namespace rebound::api {
namespace {

constexpr double kMaxLatencyMs = 24.0 * 3600 * 1000;

// The "success" and "latency_ms" of a report body; an Error naming the field otherwise.
Result<std::pair<bool, Duration>> ParseReport(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("success") || !body["success"].is_boolean()) {
    return ValidationError(
        "field \"success\" is required and must be true or false, e.g. "
        "{\"success\": false, \"latency_ms\": 250}");
  }
  Duration latency = Duration::zero();
  if (body.contains("latency_ms")) {
    const nlohmann::json& value = body["latency_ms"];
    if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > kMaxLatencyMs ||
        !std::isfinite(value.get<double>())) {
      return ValidationError("field \"latency_ms\" must be a number of milliseconds from 0 to " +
                             std::to_string(static_cast<int64_t>(kMaxLatencyMs)));
    }
    latency = std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, std::milli>(value.get<double>()));
  }
  return std::make_pair(body["success"].get<bool>(), latency);
}

// One service's part of a /reliability section, or null.
nlohmann::json Section(engine::ReliabilityController& controller, const std::string& section,
                       const std::string& name) {
  const nlohmann::json status = controller.ReliabilityStatus();
  return status[section].contains(name) ? status[section][name] : nlohmann::json(nullptr);
}

}  // namespace

void RegisterReliabilityRoutes(HttpServer& server, engine::ReliabilityController& controller) {
  server.Get("/reliability", [&controller](const HttpRequest&) {
    return JsonResponse(200, controller.ReliabilityStatus());
  });
  server.Post("/reliability/auto-recovery/:name/trigger", [&controller](const HttpRequest& r) {
    const std::string& name = r.PathParam("name");
    Result<bool> started = controller.TriggerRecovery(name);
    if (!started.ok()) {
      return ErrorResponse(started.error());
    }
    const std::string message =
        *started ? "Recovery triggered for " + name
                 : "Recovery for " + name + " is already in progress; the trigger joined it";
    return JsonResponse(202, {{"service", name},
                              {"message", message},
                              {"auto_recovery", Section(controller, "auto_recovery", name)}});
  });
  server.Post("/reliability/circuit-breaker/:name/reset", [&controller](const HttpRequest& r) {
    const std::string& name = r.PathParam("name");
    if (Status reset = controller.ResetBreaker(name); !reset.ok()) {
      return ErrorResponse(reset.error());
    }
    return JsonResponse(200,
                        {{"service", name},
                         {"message", "Circuit breaker and recovery state reset for " + name},
                         {"circuit_breaker", Section(controller, "circuit_breakers", name)}});
  });
  server.Post("/v1/heartbeat/:name", [&controller](const HttpRequest& r) {
    const std::string& name = r.PathParam("name");
    if (Status beat = controller.Heartbeat(name); !beat.ok()) {
      return ErrorResponse(beat.error());
    }
    return JsonResponse(200, {{"service", name}, {"received", true}});
  });
  server.Post("/v1/services/:name/report", [&controller](const HttpRequest& r) {
    auto report = ParseReport(r.json);
    if (!report.ok()) {
      return ErrorResponse(report.error());
    }
    const std::string& name = r.PathParam("name");
    auto breaker = controller.ReportCall(name, report->first, report->second);
    if (!breaker.ok()) {
      return ErrorResponse(breaker.error());
    }
    return JsonResponse(200, {{"service", name}, {"breaker", *breaker}});
  });
}

}  // namespace rebound::api
