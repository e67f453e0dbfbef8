#include "cli/client.h"

#include <functional>

#include "cli/http_client.h"
#include "cli/status_table.h"

namespace rebound::cli {
namespace {

constexpr int kExitDegraded = 1;

Result<Reply> Send(const ClientOptions& options, const std::string& method,
                   const std::string& path) {
  return SendRequest(options, {.method = method, .path = path});
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
                .path = "/v1/services/" + EncodeComponent(name) + "/" + action},
      out, err, [&](const nlohmann::json& reply) { PrintServiceLine(action, reply, out); });
}

int RunRecoveryAction(const ClientOptions& options, const std::string& action,
                      const std::string& name, std::ostream& out, std::ostream& err) {
  if (action != "trigger" && action != "reset") {
    err << "rebound: unknown action \"" << action << "\" (expected trigger or reset)\n";
    return kExitNoAnswer;
  }
  const std::string path = action == "trigger" ? "/reliability/auto-recovery/" +
                                                     EncodeComponent(name) + "/trigger"
                                               : "/reliability/circuit-breaker/" +
                                                     EncodeComponent(name) + "/reset";
  return PostForService(
      options,
      {.action = action, .name = name, .expected_status = action == "trigger" ? 202 : 200,
       .path = path},
      out, err, [&](const nlohmann::json& reply) {
        out << reply.value("message", action + " " + name) << "\n";
      });
}

}  // namespace rebound::cli
