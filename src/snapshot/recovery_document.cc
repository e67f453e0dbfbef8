#include "snapshot/recovery_document.h"

#include "snapshot/json_splice.h"

#include "snapshot/timestamp.h"
#include "store/module_state.h"

namespace rebound::snapshot {
namespace {

Error FieldError(const std::string& field, const std::string& what) {
  return ValidationError("recovery document: field \"" + field + "\" " + what);
}

Result<std::string> StringField(const nlohmann::json& object, const std::string& path,
                                const std::string& key) {
  if (!object.contains(key) || !object[key].is_string()) {
    return FieldError(path + key, "must be a string");
  }
  return object[key].get<std::string>();
}

Status CheckSchemaVersion(const nlohmann::json& json) {
  if (!json.contains("schema_version") || !json["schema_version"].is_number_integer()) {
    return FieldError("schema_version", "must be an integer (this build writes " +
                                            std::to_string(kRecoveryDocumentSchemaVersion) + ")");
  }
  const int64_t version = json["schema_version"].get<int64_t>();
  if (version > kRecoveryDocumentSchemaVersion) {
    return ValidationError("recovery document: schema_version " + std::to_string(version) +
                           " is newer than this rebound reads (up to " +
                           std::to_string(kRecoveryDocumentSchemaVersion) +
                           "); upgrade rebound to recover from this snapshot");
  }
  if (version < 1) {
    return FieldError("schema_version", "must be at least 1, got " + std::to_string(version));
  }
  return OkStatus();
}

Result<ServiceRecord> ServiceFromJson(const std::string& name, const nlohmann::json& json) {
  const std::string path = "system_status.services." + name + ".";
  if (!json.is_object()) {
    return FieldError(path.substr(0, path.size() - 1), "must be an object");
  }
  ServiceRecord record;
  auto state = StringField(json, path, "state");
  if (!state.ok()) {
    return state.error();
  }
  record.state = *state;
  if (!json.contains("restarts") || !json["restarts"].is_number_integer()) {
    return FieldError(path + "restarts", "must be an integer");
  }
  record.restarts = json["restarts"].get<int64_t>();
  record.health = json.value("health", "none");
  record.breaker = json.value("breaker", "closed");
  return record;
}

// An object of non-negative integer counts, e.g. {"queued": 3, "running": 1}.
Result<std::map<std::string, int64_t>> CountsFromJson(const std::string& path,
                                                      const nlohmann::json& json) {
  if (!json.is_object()) {
    return FieldError(path, "must be an object of counts");
  }
  std::map<std::string, int64_t> counts;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_number_integer() || value.get<int64_t>() < 0) {
      return FieldError(path + "." + key, "must be a non-negative integer");
    }
    counts[key] = value.get<int64_t>();
  }
  return counts;
}

Result<JobsRecord> JobsFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return FieldError("system_status.jobs", "must be an object with \"by_state\" and \"queues\"");
  }
  JobsRecord record;
  auto by_state = CountsFromJson("system_status.jobs.by_state",
                                 json.value("by_state", nlohmann::json::object()));
  if (!by_state.ok()) {
    return by_state.error();
  }
  record.by_state = std::move(*by_state);
  const nlohmann::json queues = json.value("queues", nlohmann::json::object());
  if (!queues.is_object()) {
    return FieldError("system_status.jobs.queues", "must be an object (queue name -> counts)");
  }
  for (const auto& [name, counts] : queues.items()) {
    auto read = CountsFromJson("system_status.jobs.queues." + name, counts);
    if (!read.ok()) {
      return read.error();
    }
    record.queues[name] = std::move(*read);
  }
  return record;
}

Status ReadServices(const nlohmann::json& json, RecoveryDocument& document) {
  if (!json.contains("system_status") || !json["system_status"].is_object()) {
    return FieldError("system_status", "must be an object with a \"services\" object");
  }
  const nlohmann::json& status = json["system_status"];
  if (!status.contains("services") || !status["services"].is_object()) {
    return FieldError("system_status.services", "must be an object (service name -> status)");
  }
  document.captured_by = status.value("captured_by", "daemon");
  for (const auto& [name, service] : status["services"].items()) {
    auto record = ServiceFromJson(name, service);
    if (!record.ok()) {
      return record.error();
    }
    document.services[name] = *record;
  }
  if (status.contains("jobs")) {
    auto jobs = JobsFromJson(status["jobs"]);
    if (!jobs.ok()) {
      return jobs.error();
    }
    document.jobs = std::move(*jobs);
  }
  return OkStatus();
}

Status ReadModuleStates(const nlohmann::json& json, RecoveryDocument& document) {
  if (!json.contains("module_states") || !json["module_states"].is_object()) {
    return FieldError("module_states", "must be an object (module name -> document)");
  }
  for (const auto& [module, state] : json["module_states"].items()) {
    if (Status valid = store::ValidateModuleName(module); !valid.ok()) {
      return FieldError("module_states." + module, valid.error().message());
    }
    document.module_states[module] = state;
  }
  return OkStatus();
}

Status ReadModuleSources(const nlohmann::json& json, RecoveryDocument& document) {
  if (!json.contains("module_sources")) {
    return OkStatus();  // optional: only captures with configured sources write it
  }
  if (!json["module_sources"].is_object()) {
    return FieldError("module_sources", "must be an object (module name -> source outcome)");
  }
  for (const auto& [module, outcome] : json["module_sources"].items()) {
    const std::string path = "module_sources." + module + ".";
    if (!outcome.is_object()) {
      return FieldError("module_sources." + module, "must be an object with \"source\" and \"status\"");
    }
    auto source = StringField(outcome, path, "source");
    auto status = StringField(outcome, path, "status");
    if (!source.ok() || !status.ok() || (*status != "pulled" && *status != "failed")) {
      return FieldError(path + (source.ok() ? "status" : "source"),
                        source.ok() ? "must be \"pulled\" or \"failed\"" : "must be a string");
    }
    document.module_sources[module] = {.source = *source,
                                       .pulled = *status == "pulled",
                                       .error = outcome.value("error", "")};
  }
  return OkStatus();
}

nlohmann::json SourcesToJson(const std::map<std::string, SourceOutcome>& sources) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [module, outcome] : sources) {
    json[module] = {{"source", outcome.source}, {"status", outcome.pulled ? "pulled" : "failed"}};
    if (!outcome.pulled) {
      json[module]["error"] = outcome.error;
    }
  }
  return json;
}

}  // namespace

nlohmann::json RecoveryDocumentToJson(const RecoveryDocument& document) {
  nlohmann::json services = nlohmann::json::object();
  for (const auto& [name, record] : document.services) {
    services[name] = {{"state", record.state},
                      {"restarts", record.restarts},
                      {"health", record.health},
                      {"breaker", record.breaker}};
  }
  nlohmann::json modules = nlohmann::json::object();
  for (const auto& [module, state] : document.module_states) {
    modules[module] = state;
  }
  nlohmann::json status = {{"captured_by", document.captured_by}, {"services", services}};
  if (document.jobs) {
    status["jobs"] = {{"by_state", document.jobs->by_state}, {"queues", document.jobs->queues}};
  }
  nlohmann::json json = {
      {"schema_version", document.schema_version},
      {"timestamp", FormatUtcMillis(document.timestamp_ms)},
      {"timestamp_ms", document.timestamp_ms},
      {"rebound_version", document.rebound_version},
      {"parent_commit", document.parent_commit.empty() ? nlohmann::json(nullptr)
                                                       : nlohmann::json(document.parent_commit)},
      {"system_status", std::move(status)},
      {"module_states", modules}};
  if (!document.module_sources.empty()) {
    json["module_sources"] = SourcesToJson(document.module_sources);
  }
  return json;
}

std::string SerializeRecoveryDocument(const RecoveryDocument& document) {
  return RecoveryDocumentToJson(document).dump(2) + "\n";
}

std::string SerializeRecoveryDocument(const RecoveryDocument& document,
                                      const std::map<std::string, std::string>& compact_states) {
  std::string text = SerializeRecoveryDocument(document);
  // A top-level key: at exactly two spaces after a newline, so no string value can fake it
  // (a newline inside a string is escaped).
  constexpr std::string_view kEmptyStates = "\n  \"module_states\": {}";
  const size_t at = text.find(kEmptyStates);
  if (compact_states.empty() || at == std::string::npos) {
    return text;
  }
  std::string section = "{";
  for (const auto& [module, state] : compact_states) {
    section += section.size() == 1 ? "\n    " : ",\n    ";
    section += nlohmann::json(module).dump() + ": ";
    AppendIndented(state, 2, section);
  }
  section += "\n  }";
  text.replace(at + kEmptyStates.size() - 2, 2, section);
  return text;
}

Result<RecoveryDocument> RecoveryDocumentFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return ValidationError("recovery document: must be a JSON object");
  }
  REBOUND_RETURN_IF_ERROR(CheckSchemaVersion(json));
  RecoveryDocument document;
  document.schema_version = json["schema_version"].get<int>();
  if (json.contains("timestamp_ms") && json["timestamp_ms"].is_number_integer()) {
    document.timestamp_ms = json["timestamp_ms"].get<int64_t>();
  } else {
    auto text = StringField(json, "", "timestamp");
    auto ms = text.ok() ? ParseTimestampMillis(*text) : Result<int64_t>(text.error());
    if (!ms.ok()) {
      return FieldError("timestamp", "must be a UTC time such as 2025-11-25T23:30:00.000Z");
    }
    document.timestamp_ms = *ms;
  }
  auto version = StringField(json, "", "rebound_version");
  if (!version.ok()) {
    return version.error();
  }
  document.rebound_version = *version;
  if (json.contains("parent_commit") && json["parent_commit"].is_string()) {
    document.parent_commit = json["parent_commit"].get<std::string>();
  }
  REBOUND_RETURN_IF_ERROR(ReadServices(json, document));
  REBOUND_RETURN_IF_ERROR(ReadModuleStates(json, document));
  REBOUND_RETURN_IF_ERROR(ReadModuleSources(json, document));
  return document;
}

Result<RecoveryDocument> ParseRecoveryDocument(std::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return ValidationError("recovery document: not valid JSON");
  }
  return RecoveryDocumentFromJson(json);
}

}  // namespace rebound::snapshot
