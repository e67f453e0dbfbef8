#include "cli/sync_commands.h"

#include <string>

#include "cli/http_client.h"

namespace rebound::cli {
namespace {

// The reply when the daemon answered 200 with a JSON object; the exit code otherwise.
Result<Reply> SyncExchange(const ClientOptions& options, const Request& request, std::ostream& err,
                           int& exit_code) {
  Result<Reply> reply = SendRequest(options, request);
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    exit_code = kExitNoAnswer;
    return reply;
  }
  if (reply->status != 200 || !reply->json.is_object()) {
    err << Refusal(options, "sync", *reply) << "\n";
    exit_code = reply->status >= 400 ? kExitRefused : kExitNoAnswer;
    return UnknownError("refused");
  }
  return reply;
}

std::string SyncCount(const nlohmann::json& report, const char* key, const char* singular,
                      const char* plural) {
  const int64_t count = report.value(key, int64_t{0});
  return std::to_string(count) + " " + (count == 1 ? singular : plural);
}

}  // namespace

void PrintSyncReport(const nlohmann::json& report, std::ostream& out) {
  out << SyncCount(report, "to_store", "to store", "to store") << ", "
      << SyncCount(report, "to_memory", "to memory", "to memory") << ", "
      << SyncCount(report, "unchanged", "unchanged", "unchanged") << ", "
      << SyncCount(report, "conflicts", "conflict", "conflicts") << ", "
      << SyncCount(report, "errors", "error", "errors") << " ("
      << report.value("duration_ms", int64_t{0}) << " ms)\n";
  for (const nlohmann::json& module : report.value("modules", nlohmann::json::array())) {
    const std::string direction = module.value("direction", "");
    if (direction == "unchanged") {
      continue;
    }
    out << "  " << module.value("module", "?") << "  " << direction;
    if (module.contains("detail")) {
      out << ": " << module.value("detail", "");
    }
    out << "\n";
  }
}

int RunSyncForce(const ClientOptions& options, std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  Result<Reply> reply =
      SyncExchange(options, {.method = "POST", .path = "/v1/sync/force"}, err, exit_code);
  if (!reply.ok()) {
    return exit_code;
  }
  const nlohmann::json& report = reply->json;
  if (options.json) {
    out << reply->body << "\n";
  } else {
    PrintSyncReport(report, out);
  }
  const bool troubled =
      report.value("conflicts", int64_t{0}) > 0 || report.value("errors", int64_t{0}) > 0;
  return troubled ? kExitRefused : kExitOk;
}

int RunSyncStatus(const ClientOptions& options, std::ostream& out, std::ostream& err) {
  int exit_code = kExitOk;
  Result<Reply> reply = SyncExchange(options, {.path = "/v1/sync"}, err, exit_code);
  if (!reply.ok()) {
    return exit_code;
  }
  if (options.json) {
    out << reply->body << "\n";
    return kExitOk;
  }
  const nlohmann::json& status = reply->json;
  if (!status.value("enabled", false)) {
    out << "sync is off (no [sync] table in the configuration)\n";
    return kExitOk;
  }
  std::string modules;
  for (const nlohmann::json& name : status.value("modules", nlohmann::json::array())) {
    modules += (modules.empty() ? "" : ", ") + name.get<std::string>();
  }
  out << "strategy   " << status.value("strategy", "?") << "\n"
      << "interval   " << status.value("interval", "?") << "\n"
      << "modules    " << modules << "\n"
      << "rounds     " << status.value("rounds_total", int64_t{0}) << " ("
      << status.value("conflicts_total", int64_t{0}) << " conflicts)\n";
  if (status.contains("last_round") && status["last_round"].is_object()) {
    out << "last round ";
    PrintSyncReport(status["last_round"], out);
  }
  return kExitOk;
}

}  // namespace rebound::cli
