#include "engine/config_reader.h"

#include <algorithm>
#include <tuple>

#include "base/byte_size.h"
#include "base/duration.h"

namespace rebound::engine {
namespace {

std::string_view TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

}  // namespace

std::vector<ConfigEntry> InFileOrder(const toml::table& table) {
  std::vector<std::pair<toml::source_position, ConfigEntry>> located;
  for (const auto& [key, value] : table) {
    located.push_back(
        {key.source().begin,
         {std::string(key.str()), static_cast<int>(key.source().begin.line), &value}});
  }
  std::stable_sort(located.begin(), located.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column);
  });
  std::vector<ConfigEntry> entries;
  for (auto& [position, entry] : located) {
    entries.push_back(std::move(entry));
  }
  return entries;
}

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> previous(b.size() + 1);
  std::vector<int> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    previous[j] = static_cast<int>(j);
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string ClosestMatch(std::string_view text, const std::vector<std::string>& candidates) {
  constexpr int kMaxSuggestionDistance = 2;
  std::string best;
  int best_distance = kMaxSuggestionDistance + 1;
  for (const std::string& candidate : candidates) {
    const int distance = EditDistance(text, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) {
    joined += (joined.empty() ? "" : ", ") + name;
  }
  return joined;
}

Error ConfigReader::ErrorAt(int line, std::string_view key_path, std::string_view what) const {
  std::string message = file_;
  if (line > 0) {
    message += ":" + std::to_string(line);
  }
  message += ": ";
  if (!key_path.empty()) {
    message += std::string(key_path) + ": ";
  }
  return ValidationError(message + std::string(what));
}

Error ConfigReader::ErrorAt(const toml::node& node, std::string_view key_path,
                            std::string_view what) const {
  return ErrorAt(LineOf(node), key_path, what);
}

Status ConfigReader::CheckKey(const ConfigEntry& entry, std::string_view table_path,
                              const std::vector<std::string>& valid_keys) const {
  if (std::find(valid_keys.begin(), valid_keys.end(), entry.key) != valid_keys.end()) {
    return OkStatus();
  }
  std::string what = "unknown key \"" + entry.key + "\"; ";
  const std::string suggestion = ClosestMatch(entry.key, valid_keys);
  what += suggestion.empty() ? "valid keys: " + JoinNames(valid_keys)
                             : "did you mean \"" + suggestion + "\"?";
  return ErrorAt(entry.line, table_path, what);
}

Error ConfigReader::WrongType(const toml::node& node, std::string_view key_path,
                              std::string_view expected) const {
  return ErrorAt(
      node, key_path,
      "expected " + std::string(expected) + ", got " + std::string(TypeName(node.type())));
}

Result<const toml::table*> ConfigReader::Table(const toml::node& node,
                                               std::string_view key_path) const {
  if (!node.is_table()) {
    return WrongType(node, key_path, "a table");
  }
  return node.as_table();
}

Result<std::string> ConfigReader::String(const toml::node& node, std::string_view key_path) const {
  if (!node.is_string()) {
    return WrongType(node, key_path, "a string");
  }
  return node.as_string()->get();
}

Result<std::vector<std::string>> ConfigReader::Command(const toml::node* node, int line,
                                                       std::string_view key_path,
                                                       std::string_view example) const {
  const auto bad = [&] {
    return ErrorAt(node != nullptr ? static_cast<int>(node->source().begin.line) : line, key_path,
                   "must be a non-empty array of strings, program first, e.g. " +
                       std::string(example));
  };
  if (node == nullptr || !node->is_array() || node->as_array()->empty()) {
    return bad();
  }
  std::vector<std::string> command;
  for (const toml::node& element : *node->as_array()) {
    if (!element.is_string()) {
      return bad();
    }
    command.push_back(element.as_string()->get());
  }
  if (command.front().empty()) {
    return bad();
  }
  return command;
}

Result<int64_t> ConfigReader::Integer(const toml::node& node, std::string_view key_path,
                                      int64_t min, int64_t max) const {
  if (!node.is_integer()) {
    return WrongType(node, key_path, "an integer");
  }
  const int64_t value = node.as_integer()->get();
  if (value < min || value > max) {
    return ErrorAt(node, key_path,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + std::to_string(value));
  }
  return value;
}

Result<bool> ConfigReader::Bool(const toml::node& node, std::string_view key_path) const {
  if (!node.is_boolean()) {
    return WrongType(node, key_path, "true or false");
  }
  return node.as_boolean()->get();
}

Result<double> ConfigReader::Number(const toml::node& node, std::string_view key_path) const {
  if (node.is_integer()) {
    return static_cast<double>(node.as_integer()->get());
  }
  if (!node.is_floating_point()) {
    return WrongType(node, key_path, "a number");
  }
  return node.as_floating_point()->get();
}

Result<Duration> ConfigReader::DurationValue(const toml::node& node, std::string_view key_path,
                                             Duration min) const {
  auto text = String(node, key_path);
  if (!text.ok()) {
    return text.error();
  }
  auto duration = ParseDuration(*text);
  if (!duration.ok()) {
    return ErrorAt(node, key_path, duration.error().message());
  }
  if (*duration < min) {
    return ErrorAt(node, key_path,
                   "must be at least " + FormatDuration(min) + ", got \"" + *text + "\"");
  }
  return *duration;
}

Result<int64_t> ConfigReader::ByteSize(const toml::node& node, std::string_view key_path) const {
  int64_t bytes = 0;
  if (node.is_integer()) {
    bytes = node.as_integer()->get();
  } else if (node.is_string()) {
    auto parsed = ParseByteSize(node.as_string()->get());
    if (!parsed.ok()) {
      return ErrorAt(node, key_path, parsed.error().message());
    }
    bytes = *parsed;
  } else {
    return WrongType(node, key_path, "a size such as \"10MB\" or a number of bytes");
  }
  if (bytes < 1) {
    return ErrorAt(node, key_path, "must be at least 1 byte, got " + std::to_string(bytes));
  }
  return bytes;
}

Error ConfigReader::UnknownValue(const toml::node& node, std::string_view key_path,
                                 std::string_view text,
                                 const std::vector<std::string>& expected) const {
  return ErrorAt(
      node, key_path,
      "unknown value \"" + std::string(text) + "\"; expected one of: " + JoinNames(expected));
}

}  // namespace rebound::engine
