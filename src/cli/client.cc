#include "cli/client.h"

#include <httplib.h>

#include <cctype>
#include <functional>

#include "cli/connect_probe.h"
#include "cli/status_table.h"

namespace rebound::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDegraded = 1;
constexpr int kExitRefused = 1;
constexpr int kExitNoAnswer = 2;

struct Reply {
  int status = 0;
  std::string body;
  nlohmann::json json;  // discarded when the body is not JSON
};

// httplib reports only "connection failed"; a second, bounded attempt finds the cause the
// operator needs ("connection refused", "no route to host").
std::string DescribeTransportError(httplib::Error error, const DaemonAddress& address,
                                   const ClientOptions& options) {
  switch (error) {
    case httplib::Error::Connection:
      return ConnectFailureReason(address.host, address.port, options.connect_timeout);
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no answer before the timeout";
    case httplib::Error::Write:
      return "could not send the request";
    default:
      return httplib::to_string(error);
  }
}

std::string Unreachable(const ClientOptions& options, const std::string& reason) {
  return "rebound: cannot reach the daemon at " + options.url + " (" + reason +
         "); is \"rebound serve\" running?";
}

// Sends one request. On failure returns the one-line message to print.
Result<Reply> Send(const ClientOptions& options, const std::string& method,
                   const std::string& path) {
  Result<DaemonAddress> address = ParseDaemonUrl(options.url);
  if (!address.ok()) {
    return ValidationError("rebound: " + address.error().message());
  }
  httplib::Client client(address->host, address->port);
  client.set_connection_timeout(options.connect_timeout);
  client.set_read_timeout(options.request_timeout);
  client.set_write_timeout(options.request_timeout);
  httplib::Headers headers;
  if (!options.token.empty()) {
    headers.emplace("Authorization", "Bearer " + options.token);
  }
  httplib::Result result = method == "POST" ? client.Post(path, headers, "", "application/json")
                                            : client.Get(path, headers);
  if (!result) {
    return NetworkError(
        Unreachable(options, DescribeTransportError(result.error(), *address, options)));
  }
  nlohmann::json json = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  return Reply{.status = result->status, .body = result->body, .json = std::move(json)};
}

// A string member of the {"error": {...}} object, or "" when absent.
std::string ErrorField(const Reply& reply, const char* key) {
  if (!reply.json.is_object()) {
    return "";
  }
  const nlohmann::json error = reply.json.value("error", nlohmann::json::object());
  if (!error.is_object() || !error.contains(key) || !error[key].is_string()) {
    return "";
  }
  return error[key].get<std::string>();
}

std::string Unauthorized(const ClientOptions& options) {
  if (options.token.empty()) {
    return "rebound: not authorized (HTTP 401): no token; the CLI reads it from --token, "
           "REBOUND_TOKEN, or " +
           options.token_source;
  }
  return "rebound: not authorized (HTTP 401): the daemon rejected the token from " +
         options.token_source +
         "; it must equal the daemon's DATA_DIR/token (pass --data-dir, --token or set "
         "REBOUND_TOKEN)";
}

std::string Refusal(const ClientOptions& options, const std::string& what, const Reply& reply) {
  if (reply.status == 401) {
    return Unauthorized(options);
  }
  if (reply.status == 503 && ErrorField(reply, "code") == "shutting_down") {
    return "rebound: the daemon is shutting down; try again once it is back";
  }
  std::string message = ErrorField(reply, "message");
  if (message.empty()) {
    message = reply.body.empty() ? "no details" : reply.body.substr(0, 200);
  }
  return "rebound: " + what + " failed: HTTP " + std::to_string(reply.status) + " " +
         ErrorField(reply, "code") + ": " + message;
}

// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment.
std::string EncodePathSegment(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += {'%', kHex[c >> 4], kHex[c & 0x0f]};
    }
  }
  return encoded;
}

void PrintServiceLine(const std::string& action, const nlohmann::json& service, std::ostream& out) {
  out << service.value("name", "?") << ": " << action << " accepted (now "
      << service.value("state", "?");
  if (service.contains("pid") && service["pid"].is_number_integer()) {
    out << ", pid " << service["pid"].get<int64_t>();
  }
  out << ")\n";
}

struct ServiceRequest {
  std::string action;  // for messages: "restart", "trigger"
  std::string name;
  int expected_status;
  std::string path;
};

// POSTs a request about one service; prints the answer with `print`, or --json's raw body.
int PostForService(const ClientOptions& options, const ServiceRequest& request, std::ostream& out,
                   std::ostream& err, const std::function<void(const nlohmann::json&)>& print) {
  if (request.name.empty()) {
    err << "rebound: " << request.action << " needs a service name\n";
    return kExitNoAnswer;
  }
  Result<Reply> reply = Send(options, "POST", request.path);
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    return kExitNoAnswer;
  }
  if (reply->status == 404) {
    err << "rebound: no service named \"" << request.name << "\"\n";
    return kExitRefused;
  }
  if (reply->status != request.expected_status || !reply->json.is_object()) {
    err << Refusal(options, request.action + " " + request.name, *reply) << "\n";
    return kExitRefused;
  }
  if (options.json) {
    out << reply->body << "\n";
  } else {
    print(reply->json);
  }
  return kExitOk;
}

}  // namespace

int RunStatus(const ClientOptions& options, std::ostream& out, std::ostream& err) {
  Result<Reply> services = Send(options, "GET", "/v1/services");
  if (!services.ok()) {
    err << services.error().message() << "\n";
    return kExitNoAnswer;
  }
  if (services->status != 200 || !services->json.is_object()) {
    err << Refusal(options, "status", *services) << "\n";
    return kExitNoAnswer;
  }
  Result<Reply> health = Send(options, "GET", "/health");
  if (!health.ok()) {
    err << health.error().message() << "\n";
    return kExitNoAnswer;
  }
  const bool healthy = health->status == 200;
  if (options.json) {
    out << services->body << "\n";
  } else {
    out << FormatServiceTable(services->json["services"], options.color);
    out << "\n" << FormatHealthLine(health->json) << "\n";
  }
  return healthy ? kExitOk : kExitDegraded;
}

int RunServiceAction(const ClientOptions& options, const std::string& action,
                     const std::string& name, std::ostream& out, std::ostream& err) {
  if (action != "start" && action != "stop" && action != "restart") {
    err << "rebound: unknown action \"" << action << "\" (expected start, stop or restart)\n";
    return kExitNoAnswer;
  }
  return PostForService(
      options, {.action = action, .name = name, .expected_status = 202,
                .path = "/v1/services/" + EncodePathSegment(name) + "/" + action},
      out, err, [&](const nlohmann::json& reply) { PrintServiceLine(action, reply, out); });
}

int RunRecoveryAction(const ClientOptions& options, const std::string& action,
                      const std::string& name, std::ostream& out, std::ostream& err) {
  if (action != "trigger" && action != "reset") {
    err << "rebound: unknown action \"" << action << "\" (expected trigger or reset)\n";
    return kExitNoAnswer;
  }
  const std::string path = action == "trigger" ? "/reliability/auto-recovery/" +
                                                     EncodePathSegment(name) + "/trigger"
                                               : "/reliability/circuit-breaker/" +
                                                     EncodePathSegment(name) + "/reset";
  return PostForService(
      options,
      {.action = action, .name = name, .expected_status = action == "trigger" ? 202 : 200,
       .path = path},
      out, err, [&](const nlohmann::json& reply) {
        out << reply.value("message", action + " " + name) << "\n";
      });
}

}  // namespace rebound::cli
