#include "api/state_routes.h"

namespace rebound::api {
namespace {

std::string ETag(int64_t version) { return "\"" + std::to_string(version) + "\""; }

HttpResponse StateResponse(const store::ModuleState& state) {
  HttpResponse response = JsonResponse(200, store::ModuleStateToJson(state));
  response.headers.emplace_back("ETag", ETag(state.version));
  return response;
}

HttpResponse GetState(store::ModuleStateStore& states, const std::string& module) {
  Status valid = store::ValidateModuleName(module);
  if (!valid.ok()) {
    return ErrorResponse(valid.error());
  }
  Result<store::ModuleState> state = states.Get(module);
  if (!state.ok()) {
    return ErrorResponse(state.error());
  }
  return StateResponse(*state);
}

HttpResponse PutState(store::ModuleStateStore& states, const HttpRequest& request) {
  const std::string& module = request.PathParam("module");
  Status valid = store::ValidateModuleName(module);
  if (!valid.ok()) {
    return ErrorResponse(valid.error());
  }
  if (!request.json.is_object()) {
    return ErrorResponse(
        422, "validation",
        "body: expected the module's document as a JSON object, got " +
            std::string(request.body.empty() ? "no body" : request.json.type_name()));
  }
  std::optional<int64_t> expected;
  if (auto if_match = request.Header("If-Match")) {
    Result<int64_t> version = ParseIfMatch(*if_match);
    if (!version.ok()) {
      return ErrorResponse(400, "malformed", version.error().message());
    }
    expected = *version;
  }
  Result<store::ModuleState> written = states.Put(module, request.json, expected).get();
  if (!written.ok()) {
    return ErrorResponse(written.error());
  }
  return StateResponse(*written);
}

}  // namespace

void RegisterStateRoutes(HttpServer& server, store::ModuleStateStore& states) {
  server.Get("/v1/state", [&states](const HttpRequest&) {
    Result<std::vector<store::ModuleState>> all = states.List();
    if (!all.ok()) {
      return ErrorResponse(all.error());
    }
    nlohmann::json modules = nlohmann::json::array();
    for (const store::ModuleState& state : *all) {
      modules.push_back(store::ModuleStateToJson(state));
    }
    return JsonResponse(200, {{"modules", std::move(modules)}});
  });
  server.Get("/v1/state/:module", [&states](const HttpRequest& request) {
    return GetState(states, request.PathParam("module"));
  });
  server.Put("/v1/state/:module",
             [&states](const HttpRequest& request) { return PutState(states, request); });
}

}  // namespace rebound::api
