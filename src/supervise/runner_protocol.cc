#include "supervise/runner_protocol.h"

#include <nlohmann/json.hpp>

// Assigns the value of a Result expression to `lhs`, or returns its error. File-local.
#define RUNNER_CONCAT_INNER(a, b) a##b
#define RUNNER_CONCAT(a, b) RUNNER_CONCAT_INNER(a, b)
#define REBOUND_ASSIGN_OR_RETURN(lhs, expr)                 \
  auto RUNNER_CONCAT(runner_result_, __LINE__) = (expr);    \
  if (!RUNNER_CONCAT(runner_result_, __LINE__).ok()) {      \
    return RUNNER_CONCAT(runner_result_, __LINE__).error(); \
  }                                                         \
  lhs = std::move(*RUNNER_CONCAT(runner_result_, __LINE__))

namespace rebound::supervise {
namespace {

using nlohmann::json;

// Replace, not throw: a refusal quotes an excerpt of a bad line, which may cut a UTF-8
// sequence or hold invalid bytes, and an exception here would end the runner.
std::string Line(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<json> ParseLine(std::string_view line) {
  json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!message.is_object()) {
    return ValidationError("runner message is not a JSON object: " +
                           std::string(line.substr(0, 80)));
  }
  if (!message.contains("op") || !message["op"].is_string()) {
    return ValidationError("runner message without a string \"op\"");
  }
  return message;
}

// Reads a field of the expected JSON type, or says which one is missing or wrong.
template <typename T>
Result<T> Field(const json& message, const char* key) {
  auto it = message.find(key);
  if (it == message.end()) {
    return ValidationError(std::string("runner message: missing \"") + key + "\"");
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return ValidationError(std::string("runner message: \"") + key + "\" has the wrong type");
  }
}

template <typename T>
Result<T> OptionalField(const json& message, const char* key, T fallback) {
  return message.contains(key) ? Field<T>(message, key) : Result<T>(std::move(fallback));
}

Result<RunnerStart> DecodeStart(const json& message) {
  RunnerStart start;
  REBOUND_ASSIGN_OR_RETURN(start.name, Field<std::string>(message, "name"));
  REBOUND_ASSIGN_OR_RETURN(start.command, Field<std::vector<std::string>>(message, "command"));
  REBOUND_ASSIGN_OR_RETURN(start.cwd, OptionalField<std::string>(message, "cwd", ""));
  REBOUND_ASSIGN_OR_RETURN(start.env,
                           (OptionalField<std::map<std::string, std::string>>(message, "env", {})));
  REBOUND_ASSIGN_OR_RETURN(start.log_path, Field<std::string>(message, "log"));
  REBOUND_ASSIGN_OR_RETURN(start.log_max_bytes, Field<uint64_t>(message, "log_max_bytes"));
  REBOUND_ASSIGN_OR_RETURN(start.log_keep, Field<int>(message, "log_keep"));
  if (start.name.empty() || start.name.find('/') != std::string::npos || start.name == "." ||
      start.name == "..") {
    return ValidationError("runner start: \"name\" must be a file name, got \"" + start.name +
                           "\"");
  }
  if (start.command.empty() || start.command.front().empty()) {
    return ValidationError("runner start " + start.name + ": empty command");
  }
  if (start.log_max_bytes < 1 || start.log_keep < 0) {
    return ValidationError("runner start " + start.name +
                           ": log_max_bytes must be >= 1 and log_keep >= 0");
  }
  return start;
}

Result<RunnerStarted> DecodeStarted(const json& message) {
  RunnerStarted started;
  REBOUND_ASSIGN_OR_RETURN(started.name, Field<std::string>(message, "name"));
  REBOUND_ASSIGN_OR_RETURN(started.child_pid, Field<int>(message, "child_pid"));
  return started;
}

json StartedJson(const RunnerStarted& started) {
  return {{"op", "started"}, {"name", started.name}, {"child_pid", started.child_pid}};
}

}  // namespace

std::string EncodeRequest(const RunnerRequest& request) {
  if (const auto* start = std::get_if<RunnerStart>(&request)) {
    json message = {{"op", "start"},
                    {"name", start->name},
                    {"command", start->command},
                    {"log", start->log_path},
                    {"log_max_bytes", start->log_max_bytes},
                    {"log_keep", start->log_keep}};
    if (!start->cwd.empty()) {
      message["cwd"] = start->cwd;
    }
    if (!start->env.empty()) {
      message["env"] = start->env;
    }
    return Line(message);
  }
  if (const auto* signal = std::get_if<RunnerSignal>(&request)) {
    return Line({{"op", "signal"}, {"name", signal->name}, {"signal", signal->signal}});
  }
  if (const auto* forget = std::get_if<RunnerForget>(&request)) {
    return Line({{"op", "forget"}, {"name", forget->name}});
  }
  const auto& hello = std::get<RunnerHello>(request);
  json message = {{"op", "hello"}};
  if (hello.forget) {
    message["forget"] = true;
  }
  if (hello.child_table) {
    message["child_table"] = true;
  }
  return Line(message);
}

Result<RunnerRequest> DecodeRequest(std::string_view line) {
  REBOUND_ASSIGN_OR_RETURN(json message, ParseLine(line));
  const std::string op = message["op"];
  if (op == "start") {
    REBOUND_ASSIGN_OR_RETURN(RunnerStart start, DecodeStart(message));
    return RunnerRequest(std::move(start));
  }
  if (op == "signal") {
    RunnerSignal signal;
    REBOUND_ASSIGN_OR_RETURN(signal.name, Field<std::string>(message, "name"));
    REBOUND_ASSIGN_OR_RETURN(signal.signal, Field<int>(message, "signal"));
    if (signal.signal < 1 || signal.signal > 64) {
      return ValidationError("runner signal: no such signal " + std::to_string(signal.signal));
    }
    return RunnerRequest(signal);
  }
  if (op == "hello") {
    RunnerHello hello;
    REBOUND_ASSIGN_OR_RETURN(hello.forget, OptionalField<bool>(message, "forget", false));
    REBOUND_ASSIGN_OR_RETURN(hello.child_table,
                             OptionalField<bool>(message, "child_table", false));
    return RunnerRequest(hello);
  }
  if (op == "forget") {
    RunnerForget forget;
    REBOUND_ASSIGN_OR_RETURN(forget.name, Field<std::string>(message, "name"));
    return RunnerRequest(std::move(forget));
  }
  return ValidationError("runner request: unknown op \"" + op + "\"");
}

std::string EncodeEvent(const RunnerEvent& event) {
  if (const auto* started = std::get_if<RunnerStarted>(&event)) {
    return Line(StartedJson(*started));
  }
  if (const auto* exited = std::get_if<RunnerExited>(&event)) {
    json message = {{"op", "exited"}, {"record", exited->record.ToJson()}};
    if (exited->kept) {
      message["kept"] = true;
    }
    return Line(message);
  }
  if (const auto* running = std::get_if<RunnerRunning>(&event)) {
    json jobs = json::array();
    for (const RunnerStarted& job : running->jobs) {
      jobs.push_back(StartedJson(job));
    }
    json message = {{"op", "running"}, {"jobs", jobs}};
    if (running->forget) {
      message["forget"] = true;
    }
    return Line(message);
  }
  const auto& refused = std::get<RunnerRefused>(event);
  return Line({{"op", "refused"}, {"name", refused.name}, {"message", refused.message}});
}

Result<RunnerEvent> DecodeEvent(std::string_view line) {
  REBOUND_ASSIGN_OR_RETURN(json message, ParseLine(line));
  const std::string op = message["op"];
  if (op == "started") {
    REBOUND_ASSIGN_OR_RETURN(RunnerStarted started, DecodeStarted(message));
    return RunnerEvent(std::move(started));
  }
  if (op == "exited") {
    REBOUND_ASSIGN_OR_RETURN(json record, Field<json>(message, "record"));
    REBOUND_ASSIGN_OR_RETURN(ExitRecord exit, ExitRecord::FromJson(record));
    REBOUND_ASSIGN_OR_RETURN(bool kept, OptionalField<bool>(message, "kept", false));
    return RunnerEvent(RunnerExited{.record = std::move(exit), .kept = kept});
  }
  if (op == "running") {
    REBOUND_ASSIGN_OR_RETURN(json jobs, Field<json>(message, "jobs"));
    if (!jobs.is_array()) {
      return ValidationError("runner message: \"jobs\" is not an array");
    }
    RunnerRunning running;
    REBOUND_ASSIGN_OR_RETURN(running.forget, OptionalField<bool>(message, "forget", false));
    for (const json& job : jobs) {
      REBOUND_ASSIGN_OR_RETURN(RunnerStarted started, DecodeStarted(job));
      running.jobs.push_back(std::move(started));
    }
    return RunnerEvent(std::move(running));
  }
  if (op == "refused") {
    RunnerRefused refused;
    REBOUND_ASSIGN_OR_RETURN(refused.name, Field<std::string>(message, "name"));
    REBOUND_ASSIGN_OR_RETURN(refused.message, Field<std::string>(message, "message"));
    return RunnerEvent(std::move(refused));
  }
  return ValidationError("runner event: unknown op \"" + op + "\"");
}

std::optional<std::string> LineBuffer::NextLine() {
  const size_t end = pending_.find('\n', consumed_);
  if (end == std::string::npos) {
    if (consumed_ > 0) {
      pending_.erase(0, consumed_);  // keep the buffer from growing with consumed lines
      consumed_ = 0;
    }
    return std::nullopt;
  }
  std::string line = pending_.substr(consumed_, end - consumed_);
  consumed_ = end + 1;
  return line;
}

bool LineBuffer::IsOverlong() const { return pending_.size() - consumed_ > kMaxRunnerLineBytes; }

}  // namespace rebound::supervise

#undef REBOUND_ASSIGN_OR_RETURN
#undef RUNNER_CONCAT
#undef RUNNER_CONCAT_INNER
