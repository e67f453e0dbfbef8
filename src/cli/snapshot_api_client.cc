#include "cli/snapshot_api_client.h"

#include <httplib.h>

#include "cli/http_client.h"
#include "snapshot/timestamp.h"

namespace rebound::cli {
namespace {

Error ReplyError(const ClientOptions& options, int status, const nlohmann::json& reply) {
  if (status == 401) {
    return PermissionError(
        "not authorized (HTTP 401): the daemon wants its token; the CLI "
        "looked in " +
        (options.token_source.empty() ? "--token" : options.token_source));
  }
  const nlohmann::json error =
      reply.is_object() ? reply.value("error", nlohmann::json::object()) : nlohmann::json();
  const std::string code = error.is_object() ? error.value("code", "") : "";
  const std::string message =
      error.is_object() ? error.value("message", "no details") : "HTTP " + std::to_string(status);
  return Error(CategoryFromName(code).value_or(ErrorCategory::kUnknown), message);
}

}  // namespace

nlohmann::json RecoverRequestToJson(const engine::RecoverRequest& request) {
  nlohmann::json body = {{"dry_run", request.dry_run}};
  if (request.selector.commit) {
    body["commit"] = *request.selector.commit;
  }
  if (request.selector.tag) {
    body["tag"] = *request.selector.tag;
  }
  if (request.selector.at_ms) {
    body["at"] = snapshot::FormatUtcMillis(*request.selector.at_ms);
  }
  return body;
}

Result<nlohmann::json> SnapshotApiClient::Send(const std::string& method, const std::string& path,
                                               const nlohmann::json& body) {
  auto address = ParseDaemonUrl(options_.url);
  if (!address.ok()) {
    return address.error();
  }
  httplib::Client client(address->host, address->port);
  client.set_connection_timeout(options_.connect_timeout);
  // A capture or a recovery commits to git and may start services: allow it more time.
  client.set_read_timeout(std::chrono::seconds(60));
  httplib::Headers headers;
  if (!options_.token.empty()) {
    headers.emplace("Authorization", "Bearer " + options_.token);
  }
  httplib::Result result = method == "POST"
                               ? client.Post(path, headers, body.dump(), "application/json")
                               : client.Get(path, headers);
  if (!result) {
    return NetworkError("cannot reach the daemon at " + options_.url + " (" +
                        httplib::to_string(result.error()) + "); is \"rebound serve\" running?");
  }
  nlohmann::json reply = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (result->status < 200 || result->status > 299) {
    return ReplyError(options_, result->status, reply);
  }
  if (reply.is_discarded()) {
    return UnknownError("the daemon answered " + path + " with a body that is not JSON");
  }
  return reply;
}

Result<nlohmann::json> SnapshotApiClient::ListSnapshots() {
  return Send("GET", "/v1/snapshots", nullptr);
}

Result<nlohmann::json> SnapshotApiClient::CaptureSnapshot(const std::string& message) {
  return Send("POST", "/v1/snapshots", {{"message", message}});
}

Status SnapshotApiClient::TagSnapshot(const std::string& revision, const std::string& name) {
  auto reply = Send("POST", "/v1/snapshots/" + EncodeComponent(revision) + "/tags", {{"name", name}});
  return reply.ok() ? OkStatus() : Status(reply.error());
}

Result<nlohmann::json> SnapshotApiClient::RecoverSnapshot(const engine::RecoverRequest& request) {
  return Send("POST", "/v1/snapshots/recover", RecoverRequestToJson(request));
}

Result<nlohmann::json> SnapshotApiClient::PruneSnapshots(std::optional<int> keep) {
  nlohmann::json body = nlohmann::json::object();
  if (keep) {
    body["keep"] = *keep;
  }
  return Send("POST", "/v1/snapshots/prune", body);
}

Result<nlohmann::json> SnapshotApiClient::PushSnapshots() {
  return Send("POST", "/v1/snapshots/push", nlohmann::json::object());
}

Result<nlohmann::json> SnapshotApiClient::SnapshotRemoteStatus() {
  return Send("GET", "/v1/snapshots/remote", nullptr);
}

}  // namespace rebound::cli
