#include "api/job_routes.h"

#include <charconv>

#include "jobs/job_request.h"

namespace rebound::api {
namespace {

constexpr int kMaxListLimit = 1000;
constexpr int64_t kLogChunkBytes = 256 * 1024;

// A non-negative integer from a path segment or query parameter, or a validation Error
// naming it.
Result<int64_t> ParseCount(const std::string& text, std::string_view name) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return ValidationError(std::string(name) + ": expected a non-negative integer, got \"" + text +
                           "\"");
  }
  return value;
}

Result<int64_t> JobId(const HttpRequest& request) {
  return ParseCount(request.PathParam("id"), "job id");
}

Result<int64_t> QueryCount(const HttpRequest& request, const char* name, int64_t fallback) {
  const std::optional<std::string> text = request.QueryParam(name);
  if (!text) {
    return fallback;
  }
  return ParseCount(*text, std::string("query parameter ") + name);
}

Result<jobs::JobFilter> ParseFilter(const HttpRequest& request) {
  jobs::JobFilter filter;
  if (auto state = request.QueryParam("state")) {
    auto parsed = jobs::ParseJobState(*state);
    if (!parsed.ok()) {
      return parsed.error().WithContext("query parameter state");
    }
    filter.state = *parsed;
  }
  filter.queue = request.QueryParam("queue");
  auto after = QueryCount(request, "after", 0);
  auto limit = QueryCount(request, "limit", 100);
  if (!after.ok()) {
    return after.error();
  }
  if (!limit.ok() || *limit < 1 || *limit > kMaxListLimit) {
    return ValidationError("query parameter limit: expected an integer from 1 to 1000");
  }
  filter.after_id = *after;
  filter.limit = static_cast<int>(*limit);
  return filter;
}

HttpResponse Submit(jobs::JobController& controller, const HttpRequest& request) {
  if (request.json.is_null()) {
    return ErrorResponse(
        ValidationError("a JSON body is required, e.g. {\"command\": [\"prog\", \"arg\"], "
                        "\"queue\": \"default\"}"));
  }
  auto spec = jobs::ParseJobRequest(request.json);
  if (!spec.ok()) {
    return ErrorResponse(spec.error());
  }
  auto outcome = controller.SubmitJob(*spec);
  if (!outcome.ok()) {
    return ErrorResponse(outcome.error());
  }
  return JsonResponse(outcome->created ? 201 : 200, jobs::JobToJson(outcome->job));
}

HttpResponse List(jobs::JobController& controller, const HttpRequest& request) {
  auto filter = ParseFilter(request);
  if (!filter.ok()) {
    return ErrorResponse(filter.error());
  }
  auto found = controller.ListJobs(*filter);
  if (!found.ok()) {
    return ErrorResponse(found.error());
  }
  nlohmann::json list = nlohmann::json::array();
  for (const jobs::JobRecord& job : *found) {
    list.push_back(jobs::JobToJson(job));
  }
  const bool full = static_cast<int>(found->size()) == filter->limit;
  return JsonResponse(200, {{"jobs", std::move(list)},
                            {"next_after", full ? nlohmann::json(found->back().id) : nullptr}});
}

using JobAction = Result<jobs::JobRecord> (jobs::JobController::*)(int64_t);

RouteHandler ActionRoute(jobs::JobController& controller, JobAction action, int status) {
  return [&controller, action, status](const HttpRequest& request) {
    auto id = JobId(request);
    if (!id.ok()) {
      return ErrorResponse(id.error());
    }
    auto job = (controller.*action)(*id);
    if (!job.ok()) {
      return ErrorResponse(job.error());
    }
    return JsonResponse(status, jobs::JobToJson(*job));
  };
}

HttpResponse Logs(jobs::JobController& controller, const HttpRequest& request) {
  auto id = JobId(request);
  auto offset = QueryCount(request, "offset", 0);
  if (!id.ok() || !offset.ok()) {
    return ErrorResponse(!id.ok() ? id.error() : offset.error());
  }
  auto chunk = controller.ReadJobLog(*id, *offset, kLogChunkBytes);
  if (!chunk.ok()) {
    return ErrorResponse(chunk.error());
  }
  return JsonResponse(
      200,
      {{"data", chunk->data}, {"next_offset", chunk->next_offset}, {"finished", chunk->finished}});
}

}  // namespace

void RegisterJobRoutes(HttpServer& server, jobs::JobController& controller) {
  server.Post("/v1/jobs",
              [&controller](const HttpRequest& request) { return Submit(controller, request); });
  server.Get("/v1/jobs",
             [&controller](const HttpRequest& request) { return List(controller, request); });
  server.Get("/v1/jobs/:id", ActionRoute(controller, &jobs::JobController::GetJob, 200));
  server.Post("/v1/jobs/:id/cancel", ActionRoute(controller, &jobs::JobController::CancelJob, 202));
  server.Post("/v1/jobs/:id/retry", ActionRoute(controller, &jobs::JobController::RetryJob, 202));
  server.Get("/v1/jobs/:id/logs",
             [&controller](const HttpRequest& request) { return Logs(controller, request); });
}

nlohmann::json JobsHealthComponent(jobs::JobController& controller) {
  auto summary = controller.Summary();
  if (!summary.ok()) {
    return {{"status", "unknown"}, {"required", false}, {"message", summary.error().message()}};
  }
  // Not required: failing jobs never make the daemon unhealthy.
  return {{"status", "healthy"},
          {"required", false},
          {"by_state", summary->by_state},
          {"queues", jobs::QueueBacklogs(*summary)}};
}

}  // namespace rebound::api
