#include "api/snapshot_routes.h"

#include "snapshot/timestamp.h"

namespace rebound::api {
namespace {

// The optional string field `key` of `body`, or a validation Error naming it.
Result<std::optional<std::string>> OptionalString(const nlohmann::json& body,
                                                  const std::string& key) {
  if (!body.is_object() || !body.contains(key) || body[key].is_null()) {
    return std::optional<std::string>();
  }
  if (!body[key].is_string() || body[key].get<std::string>().empty()) {
    return ValidationError("field \"" + key + "\" must be a non-empty string");
  }
  return std::optional<std::string>(body[key].get<std::string>());
}

HttpResponse Answer(int status, const Result<nlohmann::json>& result) {
  return result.ok() ? JsonResponse(status, *result) : ErrorResponse(result.error());
}

}  // namespace

Result<engine::RecoverRequest> ParseRecoverRequest(const nlohmann::json& body) {
  if (!body.is_null() && !body.is_object()) {
    return ValidationError("the body must be a JSON object, e.g. {\"tag\": \"known-good\"}");
  }
  engine::RecoverRequest request;
  auto commit = OptionalString(body, "commit");
  auto tag = OptionalString(body, "tag");
  auto at = OptionalString(body, "at");
  for (const auto* field : {&commit, &tag, &at}) {
    if (!field->ok()) {
      return field->error();
    }
  }
  request.selector.commit = *commit;
  request.selector.tag = *tag;
  if (at->has_value()) {
    auto ms = snapshot::ParseTimestampMillis(**at);
    if (!ms.ok()) {
      return ms.error().WithContext("field \"at\"");
    }
    request.selector.at_ms = *ms;
  }
  if (commit->has_value() + tag->has_value() + at->has_value() > 1) {
    return ValidationError("give at most one of \"commit\", \"tag\" and \"at\"");
  }
  if (body.is_object() && body.contains("dry_run")) {
    if (!body["dry_run"].is_boolean()) {
      return ValidationError("field \"dry_run\" must be true or false");
    }
    request.dry_run = body["dry_run"].get<bool>();
  }
  return request;
}

Result<std::optional<int>> ParsePruneRequest(const nlohmann::json& body) {
  if (!body.is_null() && !body.is_object()) {
    return ValidationError("the body must be a JSON object, e.g. {\"keep\": 30}");
  }
  if (body.is_null() || !body.contains("keep") || body["keep"].is_null()) {
    return std::optional<int>();
  }
  const nlohmann::json& keep = body["keep"];
  if (!keep.is_number_integer() || keep.get<int64_t>() < 1 || keep.get<int64_t>() > 1000000) {
    return ValidationError("field \"keep\" must be an integer from 1 to 1000000");
  }
  return std::optional<int>(keep.get<int>());
}

void RegisterSnapshotRoutes(HttpServer& server, engine::SnapshotController& controller) {
  server.Get("/v1/snapshots",
             [&controller](const HttpRequest&) { return Answer(200, controller.ListSnapshots()); });
  server.Post("/v1/snapshots", [&controller](const HttpRequest& r) {
    auto message = OptionalString(r.json, "message");
    if (!message.ok()) {
      return ErrorResponse(message.error());
    }
    return Answer(201, controller.CaptureSnapshot(message->value_or("")));
  });
  server.Post("/v1/snapshots/recover", [&controller](const HttpRequest& r) {
    auto request = ParseRecoverRequest(r.json);
    if (!request.ok()) {
      return ErrorResponse(request.error());
    }
    return Answer(200, controller.RecoverSnapshot(*request));
  });
  server.Post("/v1/snapshots/prune", [&controller](const HttpRequest& r) {
    auto keep = ParsePruneRequest(r.json);
    if (!keep.ok()) {
      return ErrorResponse(keep.error());
    }
    return Answer(200, controller.PruneSnapshots(*keep));
  });
  server.Post("/v1/snapshots/push", [&controller](const HttpRequest&) {
    return Answer(200, controller.PushSnapshots());
  });
  server.Get("/v1/snapshots/remote", [&controller](const HttpRequest&) {
    return Answer(200, controller.SnapshotRemoteStatus());
  });
  server.Post("/v1/snapshots/:commit/tags", [&controller](const HttpRequest& r) {
    auto name = OptionalString(r.json, "name");
    if (!name.ok() || !name->has_value()) {
      return ErrorResponse(
          ValidationError("field \"name\" is required, e.g. {\"name\": \"good\"}"));
    }
    const std::string& commit = r.PathParam("commit");
    if (Status tagged = controller.TagSnapshot(commit, **name); !tagged.ok()) {
      return ErrorResponse(tagged.error());
    }
    return JsonResponse(201, {{"commit", commit}, {"tag", **name}});
  });
}

}  // namespace rebound::api
