#include "engine/queue_config.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace rebound::engine {
namespace {

const std::vector<std::string> kQueueKeys = {"concurrency", "rate"};
constexpr int64_t kMaxConcurrency = 10000;
constexpr size_t kMaxQueueNameLength = 64;

Status CheckQueueName(const ConfigReader& reader, const ConfigEntry& entry) {
  const std::string& name = entry.key;
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
  if (name.empty() || name.size() > kMaxQueueNameLength || !valid_chars) {
    return reader.ErrorAt(
        entry.line, "queues",
        "invalid queue name \"" + name + "\"; use 1 to 64 characters from A-Z a-z 0-9 _ . -");
  }
  return OkStatus();
}

Status ApplyQueueSetting(const ConfigReader& reader, const ConfigEntry& setting,
                         const std::string& path, jobs::QueueSpec& queue) {
  if (setting.key == "concurrency") {
    auto concurrency = reader.Integer(*setting.value, path, 1, kMaxConcurrency);
    if (!concurrency.ok()) {
      return concurrency.error();
    }
    queue.concurrency = static_cast<int>(*concurrency);
    return OkStatus();
  }
  auto text = reader.String(*setting.value, path);
  if (!text.ok()) {
    return text.error();
  }
  const std::optional<double> rate = ParseRate(*text);
  if (!rate) {
    return reader.ErrorAt(*setting.value, path,
                          "invalid rate \"" + *text +
                              "\"; expected COUNT/UNIT with a positive count and a unit of s, m "
                              "or h, e.g. rate = \"10/s\"");
  }
  queue.rate_per_second = *rate;
  return OkStatus();
}

Result<jobs::QueueSpec> ReadQueue(const ConfigReader& reader, const ConfigEntry& entry) {
  REBOUND_RETURN_IF_ERROR(CheckQueueName(reader, entry));
  const std::string table_path = "queues." + entry.key;
  auto table = reader.Table(*entry.value, table_path);
  if (!table.ok()) {
    return table.error();
  }
  jobs::QueueSpec queue{.name = entry.key, .line = entry.line};
  for (const ConfigEntry& setting : InFileOrder(**table)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(setting, table_path, kQueueKeys));
    REBOUND_RETURN_IF_ERROR(
        ApplyQueueSetting(reader, setting, table_path + "." + setting.key, queue));
  }
  return queue;
}

}  // namespace

Status ReadJobSettings(const ConfigReader& reader, const ConfigEntry& entry, Duration& retention,
                       bool& runner_shared) {
  static constexpr std::array<std::pair<bool, std::string_view>, 2> kRunnerNames = {{
      {true, "shared"},
      {false, "per-job"},
  }};
  auto table = reader.Table(*entry.value, "jobs");
  if (!table.ok()) {
    return table.error();
  }
  for (const ConfigEntry& setting : InFileOrder(**table)) {
    REBOUND_RETURN_IF_ERROR(reader.CheckKey(setting, "jobs", {"retention", "runner"}));
    if (setting.key == "runner") {
      auto shared = reader.Choice(*setting.value, "jobs.runner", kRunnerNames);
      if (!shared.ok()) {
        return shared.error();
      }
      runner_shared = *shared;
      continue;
    }
    auto value = reader.DurationValue(*setting.value, "jobs.retention", Duration(0));
    if (!value.ok()) {
      return value.error();
    }
    retention = *value;
  }
  return OkStatus();
}

std::optional<double> ParseRate(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  double count = 0;
  const std::string_view number = text.substr(0, slash);
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), count);
  const std::string_view unit = text.substr(slash + 1);
  if (error != std::errc() || end != number.data() + number.size() || !(count > 0)) {
    return std::nullopt;
  }
  if (unit == "s") return count;
  if (unit == "m") return count / 60;
  if (unit == "h") return count / 3600;
  return std::nullopt;
}

Status ReadQueues(const ConfigReader& reader, const ConfigEntry& entry,
                  std::vector<jobs::QueueSpec>& queues) {
  auto table = reader.Table(*entry.value, "queues");
  if (!table.ok()) {
    return table.error();
  }
  for (const ConfigEntry& queue_entry : InFileOrder(**table)) {
    auto queue = ReadQueue(reader, queue_entry);
    if (!queue.ok()) {
      return queue.error();
    }
    queues.push_back(std::move(*queue));
  }
  return OkStatus();
}

}  // namespace rebound::engine
