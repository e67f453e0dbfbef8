#include "jobs/job_request.h"

#include <algorithm>

#include "base/duration.h"

namespace rebound::jobs {
namespace {

using nlohmann::json;

constexpr int kMaxAttempts = 1000;
constexpr size_t kMaxKeyLength = 256;
const std::vector<std::string> kFields = {"command", "queue",   "key",          "priority",
                                          "retry",   "timeout", "stop_timeout", "idempotent",
                                          "cwd",     "env"};
const std::vector<std::string> kRetryFields = {
    "strategy",         "max_attempts", "retry_exit_codes",
    "fatal_exit_codes", "initial",      "increment",
    "factor",           "max",          "jitter"};

Error FieldError(std::string_view field, std::string_view problem) {
  return ValidationError("field \"" + std::string(field) + "\": " + std::string(problem));
}

Status CheckFields(const json& object, const std::vector<std::string>& known,
                   std::string_view prefix) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& field : known) {
        list += (list.empty() ? "" : ", ") + field;
      }
      return FieldError(std::string(prefix) + name, "unknown field; expected one of: " + list);
    }
  }
  return OkStatus();
}

Result<std::string> StringField(const json& value, std::string_view field) {
  if (!value.is_string()) {
    return FieldError(field, "must be a string, got " + value.dump());
  }
  return value.get<std::string>();
}

Result<Duration> DurationField(const json& value, std::string_view field) {
  auto text = StringField(value, field);
  if (!text.ok()) {
    return text.error();
  }
  auto duration = ParseDuration(*text);
  if (!duration.ok()) {
    return FieldError(field, duration.error().message() + " (e.g. \"10m\", \"30s\")");
  }
  return *duration;
}

Result<std::vector<std::string>> CommandField(const json& value) {
  if (!value.is_array() || value.empty()) {
    return FieldError("command", "must be a non-empty array of strings, e.g. [\"prog\", \"arg\"]");
  }
  std::vector<std::string> command;
  for (const json& arg : value) {
    if (!arg.is_string()) {
      return FieldError("command", "every element must be a string, got " + arg.dump());
    }
    command.push_back(arg.get<std::string>());
  }
  if (command.front().empty()) {
    return FieldError("command", "the program (first element) must not be empty");
  }
  return command;
}

Status ApplyRetryNumber(const std::string& name, const json& value, JobRetry& retry) {
  const std::string field = "retry." + name;
  if (name == "max_attempts") {
    if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
        value.get<int64_t>() > kMaxAttempts) {
      return FieldError(field, "must be an integer from 1 to " + std::to_string(kMaxAttempts) +
                                   ", got " + value.dump());
    }
    retry.max_attempts = value.get<int>();
    return OkStatus();
  }
  if (!value.is_number()) {
    return FieldError(field, "must be a number, got " + value.dump());
  }
  retry.backoff.factor = value.get<double>();
  return OkStatus();
}

Status ApplyExitCodes(const std::string& name, const json& value, JobRetry& retry) {
  if (!value.is_array()) {
    return FieldError("retry." + name, "must be an array of exit codes, e.g. [3, 4]");
  }
  std::vector<int>& codes =
      name == "retry_exit_codes" ? retry.retry_exit_codes : retry.fatal_exit_codes;
  for (const json& code : value) {
    if (!code.is_number_integer() || code.get<int64_t>() < 1 || code.get<int64_t>() > 255) {
      return FieldError("retry." + name,
                        "exit codes are integers from 1 to 255, got " + code.dump());
    }
    codes.push_back(code.get<int>());
  }
  return OkStatus();
}

Status ApplyRetryField(const std::string& name, const json& value, JobRetry& retry) {
  const std::string field = "retry." + name;
  if (name == "retry_exit_codes" || name == "fatal_exit_codes") {
    return ApplyExitCodes(name, value, retry);
  }
  if (name == "max_attempts" || name == "factor") {
    return ApplyRetryNumber(name, value, retry);
  }
  if (name == "strategy" || name == "jitter") {
    auto text = StringField(value, field);
    if (!text.ok()) {
      return text.error();
    }
    if (name == "strategy") {
      auto strategy = resilience::ParseBackoffStrategy(*text);
      if (!strategy.ok() || *strategy == resilience::BackoffStrategy::kCustom) {
        return FieldError(field,
                          "expected one of: fixed, linear, exponential; got \"" + *text + "\"");
      }
      retry.backoff.strategy = *strategy;
      return OkStatus();
    }
    auto jitter = resilience::ParseJitter(*text);
    if (!jitter.ok()) {
      return FieldError(field, jitter.error().message());
    }
    retry.backoff.jitter = *jitter;
    return OkStatus();
  }
  auto duration = DurationField(value, field);
  if (!duration.ok()) {
    return duration.error();
  }
  Duration& target = name == "initial"     ? retry.backoff.initial
                     : name == "increment" ? retry.backoff.increment
                                           : retry.backoff.max;
  target = *duration;
  return OkStatus();
}

Status ApplyRetry(const json& value, JobRetry& retry) {
  if (!value.is_object()) {
    return FieldError("retry", "must be an object, e.g. {\"max_attempts\": 5}");
  }
  REBOUND_RETURN_IF_ERROR(CheckFields(value, kRetryFields, "retry."));
  for (const auto& [name, field] : value.items()) {
    REBOUND_RETURN_IF_ERROR(ApplyRetryField(name, field, retry));
  }
  Status valid = resilience::ValidateBackoffConfig(retry.backoff);
  if (!valid.ok()) {
    return FieldError("retry", valid.error().message());
  }
  return OkStatus();
}

Status ApplyEnv(const json& value, JobSpec& spec) {
  if (!value.is_object()) {
    return FieldError("env", "must be an object of strings, e.g. {\"MODE\": \"batch\"}");
  }
  for (const auto& [name, variable] : value.items()) {
    if (name.empty() || name.find('=') != std::string::npos || !variable.is_string()) {
      return FieldError("env." + name, "names must be non-empty without '=', values strings");
    }
    spec.env[name] = variable.get<std::string>();
  }
  return OkStatus();
}

Status ApplyText(const std::string& name, const json& value, JobSpec& spec) {
  auto text = StringField(value, name);
  if (!text.ok()) {
    return text.error();
  }
  if (name == "queue") {
    if (text->empty()) {
      return FieldError(name, "must not be empty");
    }
    spec.queue = *text;
  } else if (name == "key") {
    if (text->empty() || text->size() > kMaxKeyLength) {
      return FieldError(name, "must be 1 to 256 characters");
    }
    spec.key = *text;
  } else {
    if (!text->starts_with('/')) {
      return FieldError(name, "must be an absolute path, got \"" + *text + "\"");
    }
    spec.cwd = *text;
  }
  return OkStatus();
}

Status ApplyField(const std::string& name, const json& value, JobSpec& spec) {
  if (name == "command") {
    auto command = CommandField(value);
    if (!command.ok()) {
      return command.error();
    }
    spec.command = std::move(*command);
  } else if (name == "queue" || name == "key" || name == "cwd") {
    return ApplyText(name, value, spec);
  } else if (name == "priority") {
    if (!value.is_number_integer() || value.get<int64_t>() < -1000000 ||
        value.get<int64_t>() > 1000000) {
      return FieldError(name, "must be an integer from -1000000 to 1000000, got " + value.dump());
    }
    spec.priority = value.get<int>();
  } else if (name == "retry") {
    return ApplyRetry(value, spec.retry);
  } else if (name == "timeout" || name == "stop_timeout") {
    auto duration = DurationField(value, name);
    if (!duration.ok()) {
      return duration.error();
    }
    (name == "timeout" ? spec.timeout : spec.stop_timeout) = *duration;
  } else if (name == "idempotent") {
    if (!value.is_boolean()) {
      return FieldError(name, "must be true or false, got " + value.dump());
    }
    spec.idempotent = value.get<bool>();
  } else {
    return ApplyEnv(value, spec);
  }
  return OkStatus();
}

}  // namespace

Result<JobSpec> ParseJobRequest(const json& body) {
  if (!body.is_object()) {
    return ValidationError("the body must be a JSON object, e.g. {\"command\": [\"prog\"]}");
  }
  REBOUND_RETURN_IF_ERROR(CheckFields(body, kFields, ""));
  if (!body.contains("command")) {
    return FieldError("command", "is required, e.g. {\"command\": [\"prog\", \"arg\"]}");
  }
  JobSpec spec;
  for (const auto& [name, value] : body.items()) {
    REBOUND_RETURN_IF_ERROR(ApplyField(name, value, spec));
  }
  return spec;
}

}  // namespace rebound::jobs
