#include "cli/job_commands.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <thread>

#include "cli/connect_probe.h"

namespace rebound::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRefused = 1;
constexpr int kExitNoAnswer = 2;
constexpr auto kFollowInterval = std::chrono::milliseconds(250);

struct Reply {
  int status = 0;
  nlohmann::json json;
};

// One request to the daemon; the error is the one line to print.
Result<Reply> Send(const ClientOptions& options, const std::string& method, const std::string& path,
                   const nlohmann::json& body = nullptr) {
  auto address = ParseDaemonUrl(options.url);
  if (!address.ok()) {
    return ValidationError("rebound: " + address.error().message());
  }
  httplib::Client client(address->host, address->port);
  client.set_connection_timeout(options.connect_timeout);
  client.set_read_timeout(options.request_timeout);
  client.set_tcp_nodelay(true);  // a POST's body is a second write: no 40 ms Nagle delay
  httplib::Headers headers;
  if (!options.token.empty()) {
    headers.emplace("Authorization", "Bearer " + options.token);
  }
  httplib::Result result =
      method == "POST"
          ? client.Post(path, headers, body.is_null() ? "" : body.dump(), "application/json")
          : client.Get(path, headers);
  if (!result) {
    const std::string why =
        result.error() == httplib::Error::Connection
            ? ConnectFailureReason(address->host, address->port, options.connect_timeout)
            : httplib::to_string(result.error());
    return NetworkError("rebound: cannot reach the daemon at " + options.url + " (" + why +
                        "); is \"rebound serve\" running?");
  }
  return Reply{.status = result->status,
               .json = nlohmann::json::parse(result->body, nullptr, false)};
}

std::string Refusal(const Reply& reply) {
  std::string message = "HTTP " + std::to_string(reply.status);
  if (reply.json.is_object() && reply.json.contains("error") && reply.json["error"].is_object()) {
    message += " " + reply.json["error"].value("code", "") + ": " +
               reply.json["error"].value("message", "");
  }
  if (reply.status == 401) {
    message += " (the token comes from --token, REBOUND_TOKEN or DATA_DIR/token)";
  }
  return message;
}

// Sends and checks the status; prints the failure and returns the exit code when it fails.
std::optional<int> Call(const ClientOptions& options, const std::string& method,
                        const std::string& path, const nlohmann::json& body,
                        const std::string& what, std::ostream& err, Reply& reply) {
  auto sent = Send(options, method, path, body);
  if (!sent.ok()) {
    err << sent.error().message() << "\n";
    return kExitNoAnswer;
  }
  reply = std::move(*sent);
  if (reply.status >= 300 || !reply.json.is_object()) {
    err << "rebound: " << what << " failed: " << Refusal(reply) << "\n";
    return kExitRefused;
  }
  return std::nullopt;
}

std::string CommandText(const nlohmann::json& job) {
  std::string text;
  for (const auto& arg : job.value("command", nlohmann::json::array())) {
    text += (text.empty() ? "" : " ") + arg.get<std::string>();
  }
  return text;
}

void PrintJobLine(const nlohmann::json& job, std::ostream& out) {
  out << std::left << std::setw(8) << job.value("id", int64_t{0}) << std::setw(12)
      << job.value("state", "") << std::setw(12) << job.value("queue", "") << std::setw(9)
      << (std::to_string(job.value("attempt", 0)) + "/" +
          std::to_string(job.value("max_attempts", 0)))
      << CommandText(job) << "\n";
}

void PrintJob(const nlohmann::json& job, std::ostream& out) {
  out << "job " << job.value("id", int64_t{0}) << ": " << job.value("state", "") << "\n"
      << "  command:  " << CommandText(job) << "\n"
      << "  queue:    " << job.value("queue", "") << " (priority " << job.value("priority", 0)
      << ")\n"
      << "  attempt:  " << job.value("attempt", 0) << " of " << job.value("max_attempts", 0) << "\n"
      << "  message:  " << job.value("message", "") << "\n";
  if (job.contains("last_exit") && job["last_exit"].is_object()) {
    out << "  last exit: " << job["last_exit"].value("description", "") << "\n";
  }
}

std::string JobPath(const JobCommandFlags& flags, const std::string& suffix = "") {
  return "/v1/jobs/" + flags.id + suffix;
}

int RunSubmit(const JobCommandFlags& flags, const ClientOptions& options, std::ostream& out,
              std::ostream& err) {
  Reply reply;
  if (auto failed = Call(options, "POST", "/v1/jobs", SubmitBody(flags), "submit", err, reply)) {
    return *failed;
  }
  if (options.json) {
    out << reply.json.dump() << "\n";
  } else {
    out << "job " << reply.json.value("id", int64_t{0}) << " "
        << (reply.status == 201 ? "submitted" : "already submitted with this key") << " ("
        << reply.json.value("state", "") << ")\n";
  }
  return kExitOk;
}

int RunList(const JobCommandFlags& flags, const ClientOptions& options, std::ostream& out,
            std::ostream& err) {
  std::string query = "?limit=1000";
  if (flags.state) {
    query += "&state=" + *flags.state;
  }
  if (flags.queue) {
    query += "&queue=" + *flags.queue;
  }
  Reply reply;
  if (auto failed = Call(options, "GET", "/v1/jobs" + query, nullptr, "list", err, reply)) {
    return *failed;
  }
  if (options.json) {
    out << reply.json.dump() << "\n";
    return kExitOk;
  }
  out << std::left << std::setw(8) << "ID" << std::setw(12) << "STATE" << std::setw(12) << "QUEUE"
      << std::setw(9) << "ATTEMPT"
      << "COMMAND\n";
  for (const auto& job : reply.json.value("jobs", nlohmann::json::array())) {
    PrintJobLine(job, out);
  }
  return kExitOk;
}

int RunOne(const std::string& method, const std::string& suffix, const std::string& what,
           const JobCommandFlags& flags, const ClientOptions& options, std::ostream& out,
           std::ostream& err) {
  Reply reply;
  if (auto failed = Call(options, method, JobPath(flags, suffix), nullptr, what, err, reply)) {
    return *failed;
  }
  if (options.json) {
    out << reply.json.dump() << "\n";
  } else {
    PrintJob(reply.json, out);
  }
  return kExitOk;
}

int RunLogs(const JobCommandFlags& flags, const ClientOptions& options, std::ostream& out,
            std::ostream& err) {
  int64_t offset = 0;
  while (true) {
    Reply reply;
    const std::string path = JobPath(flags, "/logs?offset=" + std::to_string(offset));
    if (auto failed = Call(options, "GET", path, nullptr, "logs", err, reply)) {
      return *failed;
    }
    out << reply.json.value("data", "") << std::flush;
    const int64_t next = reply.json.value("next_offset", offset);
    if (!flags.follow || (reply.json.value("finished", false) && next == offset)) {
      return kExitOk;
    }
    if (next == offset) {
      std::this_thread::sleep_for(kFollowInterval);
    }
    offset = next;
  }
}

void AddSubmitFlags(CLI::App* submit, JobCommandFlags& flags) {
  submit->add_option("--queue", flags.queue, "queue (default: default)");
  submit->add_option("--priority", flags.priority, "higher runs first (default 0)");
  submit->add_option("--retry", flags.retry_strategy, "backoff: fixed, linear or exponential");
  submit->add_option("--max-attempts", flags.max_attempts, "attempts in all (default 3)");
  submit->add_option("--retry-exit-code", flags.retry_exit_codes,
                     "retry this exit code whatever the defaults say (repeatable)");
  submit->add_option("--fatal-exit-code", flags.fatal_exit_codes,
                     "never retry this exit code (repeatable)");
  submit->add_option("--timeout", flags.timeout, "per attempt, e.g. 10m (default: none)");
  submit->add_option("--key", flags.key, "idempotency key: resubmitting returns the same job");
  submit->add_flag("--not-idempotent", flags.not_idempotent,
                   "after a crash with the outcome unknown, wait for `jobs retry`");
  submit->add_option("COMMAND", flags.command, "the command and its arguments, after --")
      ->required();
}

}  // namespace

nlohmann::json SubmitBody(const JobCommandFlags& flags) {
  nlohmann::json body = {{"command", flags.command}};
  if (flags.queue) body["queue"] = *flags.queue;
  if (flags.priority) body["priority"] = *flags.priority;
  if (flags.timeout) body["timeout"] = *flags.timeout;
  if (flags.key) body["key"] = *flags.key;
  if (flags.not_idempotent) body["idempotent"] = false;
  if (flags.retry_strategy || flags.max_attempts || !flags.retry_exit_codes.empty() ||
      !flags.fatal_exit_codes.empty()) {
    body["retry"] = nlohmann::json::object();
    if (!flags.retry_exit_codes.empty()) body["retry"]["retry_exit_codes"] = flags.retry_exit_codes;
    if (!flags.fatal_exit_codes.empty()) body["retry"]["fatal_exit_codes"] = flags.fatal_exit_codes;
    if (flags.retry_strategy) body["retry"]["strategy"] = *flags.retry_strategy;
    if (flags.max_attempts) body["retry"]["max_attempts"] = *flags.max_attempts;
  }
  return body;
}

JobCommands AddJobCommands(CLI::App& app) {
  JobCommands commands;
  JobCommandFlags& flags = *commands.flags;
  commands.jobs =
      app.add_subcommand("jobs", "Durable jobs: submit, list, show, logs, cancel, retry");
  commands.jobs->require_subcommand(1);
  commands.submit = commands.jobs->add_subcommand("submit", "Submit a job: -- COMMAND ARGS...");
  AddSubmitFlags(commands.submit, flags);
  commands.list = commands.jobs->add_subcommand("list", "List jobs");
  commands.list->add_option("--state", flags.state, "only jobs in this state");
  commands.list->add_option("--queue", flags.queue, "only jobs of this queue");
  commands.show = commands.jobs->add_subcommand("show", "Show one job");
  commands.logs = commands.jobs->add_subcommand("logs", "Print a job's output");
  commands.logs->add_flag("-f,--follow", flags.follow, "keep printing until the job ends");
  commands.cancel = commands.jobs->add_subcommand("cancel", "Cancel a job (running: stop it)");
  commands.retry = commands.jobs->add_subcommand("retry", "Run a failed or interrupted job again");
  for (CLI::App* sub : {commands.show, commands.logs, commands.cancel, commands.retry}) {
    sub->add_option("ID", flags.id, "the job id")
        ->required()
        ->check(CLI::Validator(
            [](std::string& id) {
              const bool digits = !id.empty() && std::all_of(id.begin(), id.end(), ::isdigit);
              return digits ? std::string() : "expected a job id (a number), got \"" + id + "\"";
            },
            "ID"));
  }
  return commands;
}

int RunJobCommand(const JobCommands& commands, const ClientOptions& options, std::ostream& out,
                  std::ostream& err) {
  const JobCommandFlags& flags = *commands.flags;
  if (commands.submit->parsed()) return RunSubmit(flags, options, out, err);
  if (commands.list->parsed()) return RunList(flags, options, out, err);
  if (commands.show->parsed()) return RunOne("GET", "", "show", flags, options, out, err);
  if (commands.logs->parsed()) return RunLogs(flags, options, out, err);
  if (commands.cancel->parsed())
    return RunOne("POST", "/cancel", "cancel", flags, options, out, err);
  return RunOne("POST", "/retry", "retry", flags, options, out, err);
}

}  // namespace rebound::cli
