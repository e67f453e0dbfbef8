#include "supervise/exit_record.h"

#include <string.h>

#include <limits>

#include "base/atomic_file.h"

namespace rebound::supervise {
namespace {

// Reads typed fields from a JSON object, remembering the first problem so that FromJson can
// read every field in a row and report once.
class FieldReader {
 public:
  FieldReader(const nlohmann::json& json, std::string what) : json_(json), what_(std::move(what)) {
    if (!json_.is_object()) {
      Fail("not a JSON object");
    }
  }

  std::string String(const char* key) {
    const nlohmann::json* field = Find(key);
    if (field == nullptr || !field->is_string()) {
      Fail(std::string("field '") + key + "' must be a string");
      return {};
    }
    return field->get<std::string>();
  }

  template <typename Int>
  Int Integer(const char* key) {
    return NullableInteger<Int>(key, /*allow_null=*/false).value_or(0);
  }

  template <typename Int>
  std::optional<Int> NullableInteger(const char* key, bool allow_null = true) {
    const nlohmann::json* field = Find(key);
    if (field != nullptr && allow_null && field->is_null()) {
      return std::nullopt;
    }
    if (field == nullptr || !FitsIn<Int>(*field)) {
      Fail(std::string("field '") + key + "' must be an integer" + (allow_null ? " or null" : "") +
           " in range");
      return std::nullopt;
    }
    if (field->is_number_unsigned()) {
      return static_cast<Int>(field->get<uint64_t>());
    }
    return static_cast<Int>(field->get<int64_t>());
  }

  bool Bool(const char* key) {
    const nlohmann::json* field = Find(key);
    if (field == nullptr || !field->is_boolean()) {
      Fail(std::string("field '") + key + "' must be a boolean");
      return false;
    }
    return field->get<bool>();
  }

  void Fail(const std::string& why) {
    if (!error_) {
      error_ = CorruptionError(what_ + ": " + why);
    }
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  const nlohmann::json* Find(const char* key) const {
    if (!json_.is_object()) {
      return nullptr;
    }
    auto it = json_.find(key);
    return it == json_.end() ? nullptr : &*it;
  }

  template <typename Int>
  static bool FitsIn(const nlohmann::json& field) {
    if (field.is_number_unsigned()) {
      return field.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<Int>::max());
    }
    if (field.is_number_integer()) {
      const int64_t value = field.get<int64_t>();
      return value >= static_cast<int64_t>(std::numeric_limits<Int>::min()) &&
             (value < 0 || static_cast<uint64_t>(value) <=
                               static_cast<uint64_t>(std::numeric_limits<Int>::max()));
    }
    return false;
  }

  const nlohmann::json& json_;
  std::string what_;
  std::optional<Error> error_;
};

nlohmann::json NullableToJson(const std::optional<int>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

Result<nlohmann::json> ReadJsonFile(FileSystem& fs, const std::string& path) {
  auto payload = ReadChecksummedFile(fs, path);
  if (!payload.ok()) {
    return payload.error();
  }
  nlohmann::json json = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return CorruptionError(path + ": malformed JSON");
  }
  return json;
}

nlohmann::json PreviousExitToJson(const PreviousExit& exit) {
  return {{"child_pid", exit.child_pid},           {"exit_code", NullableToJson(exit.exit_code)},
          {"signal", NullableToJson(exit.signal)}, {"core_dumped", exit.core_dumped},
          {"started_ms", exit.started_ms},         {"ended_ms", exit.ended_ms}};
}

std::optional<PreviousExit> PreviousExitFromJson(const nlohmann::json& json, FieldReader& outer) {
  FieldReader reader(json, "previous_exit");
  PreviousExit exit{.child_pid = reader.Integer<int>("child_pid"),
                    .exit_code = reader.NullableInteger<int>("exit_code"),
                    .signal = reader.NullableInteger<int>("signal"),
                    .core_dumped = reader.Bool("core_dumped"),
                    .started_ms = reader.Integer<int64_t>("started_ms"),
                    .ended_ms = reader.Integer<int64_t>("ended_ms")};
  if (!reader.error() && exit.exit_code.has_value() == exit.signal.has_value()) {
    reader.Fail("exactly one of 'exit_code' and 'signal' must be set");
  }
  if (reader.error()) {
    outer.Fail(reader.error()->message());
    return std::nullopt;
  }
  return exit;
}

}  // namespace

nlohmann::json ChildRecord::ToJson() const {
  nlohmann::json json = {{"name", name},
                         {"shim_pid", shim_pid},
                         {"child_pid", child_pid},
                         {"child_start_time", child_start_time},
                         {"started_ms", started_ms},
                         {"generation", generation}};
  if (previous_exit) {
    json["previous_exit"] = PreviousExitToJson(*previous_exit);
  }
  return json;
}

Result<ChildRecord> ChildRecord::FromJson(const nlohmann::json& json) {
  FieldReader reader(json, "child record");
  ChildRecord record{.name = reader.String("name"),
                     .shim_pid = reader.Integer<int>("shim_pid"),
                     .child_pid = reader.Integer<int>("child_pid"),
                     .child_start_time = reader.Integer<uint64_t>("child_start_time"),
                     .started_ms = reader.Integer<int64_t>("started_ms")};
  // A shim from before self-restarts writes neither field: its first child, generation 0.
  if (json.is_object() && json.contains("generation")) {
    record.generation = reader.Integer<uint64_t>("generation");
  }
  if (json.is_object() && json.contains("previous_exit") && !json["previous_exit"].is_null()) {
    record.previous_exit = PreviousExitFromJson(json["previous_exit"], reader);
  }
  if (reader.error()) {
    return *reader.error();
  }
  return record;
}

nlohmann::json ExitRecord::ToJson() const {
  return {{"name", name},
          {"shim_pid", shim_pid},
          {"child_pid", child_pid},
          {"exit_code", NullableToJson(exit_code)},
          {"signal", NullableToJson(signal)},
          {"core_dumped", core_dumped},
          {"started_ms", started_ms},
          {"ended_ms", ended_ms}};
}

Result<ExitRecord> ExitRecord::FromJson(const nlohmann::json& json) {
  FieldReader reader(json, "exit record");
  ExitRecord record{.name = reader.String("name"),
                    .shim_pid = reader.Integer<int>("shim_pid"),
                    .child_pid = reader.Integer<int>("child_pid"),
                    .exit_code = reader.NullableInteger<int>("exit_code"),
                    .signal = reader.NullableInteger<int>("signal"),
                    .core_dumped = reader.Bool("core_dumped"),
                    .started_ms = reader.Integer<int64_t>("started_ms"),
                    .ended_ms = reader.Integer<int64_t>("ended_ms")};
  if (!reader.error() && record.exit_code.has_value() == record.signal.has_value()) {
    reader.Fail("exactly one of 'exit_code' and 'signal' must be set");
  }
  if (reader.error()) {
    return *reader.error();
  }
  return record;
}

std::string ExitRecordPath(const std::string& run_dir, const std::string& name) {
  return run_dir + "/" + name + ".exit";
}

std::string ChildRecordPath(const std::string& run_dir, const std::string& name) {
  return run_dir + "/" + name + ".child";
}

Status WriteExitRecord(FileSystem& fs, const std::string& path, const ExitRecord& record,
                       FileDurability durability) {
  return WriteChecksummedFile(fs, path, record.ToJson().dump() + "\n", 0644, durability);
}

Result<ExitRecord> ReadExitRecord(FileSystem& fs, const std::string& path) {
  auto json = ReadJsonFile(fs, path);
  if (!json.ok()) {
    return json.error();
  }
  auto record = ExitRecord::FromJson(*json);
  if (!record.ok()) {
    return record.error().WithContext(path);
  }
  return record;
}

// Not fsynced: the record names a live process, and a power loss that could lose the record
// takes the process with it, so no daemon after it could adopt it anyway. A daemon crash does
// not touch the page cache, and the rename keeps readers from seeing half a record. This
// takes two fsyncs off every service start and every job attempt.
Status WriteChildRecord(FileSystem& fs, const std::string& path, const ChildRecord& record) {
  return WriteChecksummedFile(fs, path, record.ToJson().dump() + "\n", 0644,
                              FileDurability::kAtomicOnly);
}

Result<ChildRecord> ReadChildRecord(FileSystem& fs, const std::string& path) {
  auto json = ReadJsonFile(fs, path);
  if (!json.ok()) {
    return json.error();
  }
  auto record = ChildRecord::FromJson(*json);
  if (!record.ok()) {
    return record.error().WithContext(path);
  }
  return record;
}

std::string SignalName(int signal) {
  const char* abbreviation = ::sigabbrev_np(signal);
  if (abbreviation == nullptr) {
    return "signal " + std::to_string(signal);
  }
  return std::string("SIG") + abbreviation;
}

std::string DescribeExit(const ExitRecord& record) {
  return DescribeExit(PreviousExit{
      .exit_code = record.exit_code, .signal = record.signal, .core_dumped = record.core_dumped});
}

std::string DescribeExit(const PreviousExit& exit) {
  if (exit.signal) {
    std::string text =
        "killed by signal " + std::to_string(*exit.signal) + " (" + SignalName(*exit.signal) + ")";
    return exit.core_dumped ? text + ", core dumped" : text;
  }
  return "exited with code " + std::to_string(exit.exit_code.value_or(-1));
}

}  // namespace rebound::supervise
