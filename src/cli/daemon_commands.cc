#include "cli/daemon_commands.h"

#include "cli/event_commands.h"
#include "cli/http_client.h"
#include "cli/status_table.h"

namespace rebound::cli {
namespace {

// Sends the request; on anything but `expected`, prints the one line and gives the exit code.
std::optional<int> Exchange(const ClientOptions& options, const Request& request, int expected,
                            const std::string& what, Result<Reply>& reply, std::ostream& err) {
  reply = SendRequest(options, request);
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    return kExitNoAnswer;
  }
  if (reply->status != expected || !reply->json.is_object()) {
    err << Refusal(options, what, *reply) << "\n";
    return reply->status >= 400 ? kExitRefused : kExitNoAnswer;
  }
  return std::nullopt;
}

std::string Field(const nlohmann::json& json, const char* key) {
  if (!json.contains(key)) {
    return "-";
  }
  return json[key].is_string() ? json[key].get<std::string>() : json[key].dump();
}

std::string NameList(const nlohmann::json& names) {
  std::string text;
  for (const auto& name : names) {
    text += (text.empty() ? "" : ", ") + (name.is_string() ? name.get<std::string>() : name.dump());
  }
  return text.empty() ? "-" : text;
}

void PrintState(const nlohmann::json& state, std::ostream& out) {
  out << "# " << Field(state, "module") << " version " << Field(state, "version") << ", updated "
      << FormatUnixMillis(state.value("updated_at_ms", int64_t{0})) << "\n"
      << state.value("document", nlohmann::json::object()).dump(2) << "\n";
}

}  // namespace

int RunDaemonInfo(const ClientOptions& options, std::ostream& out, std::ostream& err) {
  Result<Reply> reply = Error(ErrorCategory::kUnknown, "");
  if (auto code = Exchange(options, {.path = "/v1/daemon"}, 200, "daemon", reply, err)) {
    return *code;
  }
  if (options.json) {
    out << reply->body << "\n";
    return kExitOk;
  }
  const nlohmann::json& info = reply->json;
  out << "version        " << Field(info, "version") << "\n"
      << "pid            " << Field(info, "pid") << "\n"
      << "uptime         " << FormatUptime(info.value("uptime_seconds", 0.0)) << "\n"
      << "listen         " << Field(info, "listen") << "\n"
      << "data dir       " << Field(info, "data_dir") << "\n"
      << "config         " << Field(info, "config_path") << "\n"
      << "config digest  " << Field(info, "config_digest") << "\n"
      << "services       " << Field(info, "services") << "\n";
  return kExitOk;
}

int RunReload(const ClientOptions& options, std::ostream& out, std::ostream& err) {
  Result<Reply> reply = Error(ErrorCategory::kUnknown, "");
  if (auto code = Exchange(options, {.method = "POST", .path = "/v1/daemon/reload"}, 200, "reload",
                           reply, err)) {
    return *code;
  }
  if (options.json) {
    out << reply->body << "\n";
    return kExitOk;
  }
  const nlohmann::json& outcome = reply->json;
  out << "reloaded (config digest " << Field(outcome, "config_digest") << ")\n"
      << "  added      " << NameList(outcome.value("added", nlohmann::json::array())) << "\n"
      << "  removed    " << NameList(outcome.value("removed", nlohmann::json::array())) << "\n"
      << "  changed    " << NameList(outcome.value("changed", nlohmann::json::array())) << "\n"
      << "  unchanged  " << NameList(outcome.value("unchanged", nlohmann::json::array())) << "\n";
  return kExitOk;
}

int RunStateGet(const ClientOptions& options, const std::string& module, std::ostream& out,
                std::ostream& err) {
  Result<Reply> reply = Error(ErrorCategory::kUnknown, "");
  if (auto code = Exchange(options, {.path = "/v1/state/" + EncodeComponent(module)}, 200,
                           "state get " + module, reply, err)) {
    return *code;
  }
  if (options.json) {
    out << reply->body << "\n";
  } else {
    PrintState(reply->json, out);
  }
  return kExitOk;
}

int RunStatePut(const ClientOptions& options, const StatePutArgs& args, std::ostream& out,
                std::ostream& err) {
  nlohmann::json document = nlohmann::json::parse(args.document, nullptr, false);
  if (!document.is_object()) {
    err << "rebound: state put " << args.module
        << ": the document must be a JSON object (read from the FILE argument or stdin)\n";
    return kExitNoAnswer;
  }
  Request request{.method = "PUT",
                  .path = "/v1/state/" + EncodeComponent(args.module),
                  .body = document.dump()};
  if (args.if_match) {
    request.headers["If-Match"] = "\"" + std::to_string(*args.if_match) + "\"";
  }
  Result<Reply> reply = Error(ErrorCategory::kUnknown, "");
  if (auto code = Exchange(options, request, 200, "state put " + args.module, reply, err)) {
    return *code;
  }
  if (options.json) {
    out << reply->body << "\n";
  } else {
    out << args.module << ": stored version " << Field(reply->json, "version") << "\n";
  }
  return kExitOk;
}

}  // namespace rebound::cli
