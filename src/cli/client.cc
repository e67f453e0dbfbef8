#include "cli/client.h"

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
  if (name.empty()) {
    err << "rebound: " << action << " needs a service name\n";
    return kExitNoAnswer;
  }
  Result<Reply> reply =
      Send(options, "POST", "/v1/services/" + EncodeComponent(name) + "/" + action);
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    return kExitNoAnswer;
  }
  if (reply->status == 404) {
    err << "rebound: no service named \"" << name << "\"\n";
    return kExitRefused;
  }
  if (reply->status != 202 || !reply->json.is_object()) {
    err << Refusal(options, action + " " + name, *reply) << "\n";
    return kExitRefused;
  }
  if (options.json) {
    out << reply->body << "\n";
  } else {
    PrintServiceLine(action, reply->json, out);
  }
  return kExitOk;
}

}  // namespace rebound::cli
