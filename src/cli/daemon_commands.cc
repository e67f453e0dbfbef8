#include "cli/daemon_commands.h"

#include "cli/event_commands.h"
#include "cli/http_client.h"
#include "cli/status_table.h"

namespace rebound::cli {
namespace {

struct Outcome {
  std::optional<Reply> reply;  // set when the daemon answered as expected
  int exit_code = kExitOk;     // otherwise, after the one line was printed
};

// Sends the request; on anything but `expected`, prints the one line and gives the exit code.
Outcome Exchange(const ClientOptions& options, const Request& request, int expected,
                 const std::string& what, std::ostream& err) {
  Result<Reply> reply = SendRequest(options, request);
  if (!reply.ok()) {
    err << reply.error().message() << "\n";
    return {std::nullopt, kExitNoAnswer};
  }
  if (reply->status != expected || !reply->json.is_object()) {
    err << Refusal(options, what, *reply) << "\n";
    return {std::nullopt, reply->status >= 400 ? kExitRefused : kExitNoAnswer};
  }
  return {std::move(*reply), kExitOk};
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
  Outcome answer = Exchange(options, {.path = "/v1/daemon"}, 200, "daemon", err);
  if (!answer.reply) {
    return answer.exit_code;
  }
  if (options.json) {
    out << answer.reply->body << "\n";
    return kExitOk;
  }
  const nlohmann::json& info = answer.reply->json;
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
  Outcome answer =
      Exchange(options, {.method = "POST", .path = "/v1/daemon/reload"}, 200, "reload", err);
  if (!answer.reply) {
    return answer.exit_code;
  }
  if (options.json) {
    out << answer.reply->body << "\n";
    return kExitOk;
  }
  const nlohmann::json& outcome = answer.reply->json;
  out << "reloaded (config digest " << Field(outcome, "config_digest") << ")\n"
      << "  added      " << NameList(outcome.value("added", nlohmann::json::array())) << "\n"
      << "  removed    " << NameList(outcome.value("removed", nlohmann::json::array())) << "\n"
      << "  changed    " << NameList(outcome.value("changed", nlohmann::json::array())) << "\n"
      << "  unchanged  " << NameList(outcome.value("unchanged", nlohmann::json::array())) << "\n";
  return kExitOk;
}

int RunStateGet(const ClientOptions& options, const std::string& module, std::ostream& out,
                std::ostream& err) {
  Outcome answer = Exchange(options, {.path = "/v1/state/" + EncodeComponent(module)}, 200,
                            "state get " + module, err);
  if (!answer.reply) {
    return answer.exit_code;
  }
  if (options.json) {
    out << answer.reply->body << "\n";
  } else {
    PrintState(answer.reply->json, out);
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
  Outcome answer = Exchange(options, request, 200, "state put " + args.module, err);
  if (!answer.reply) {
    return answer.exit_code;
  }
  if (options.json) {
    out << answer.reply->body << "\n";
  } else {
    out << args.module << ": stored version " << Field(answer.reply->json, "version") << "\n";
  }
  return kExitOk;
}

}  // namespace rebound::cli
