#pragma once

// ConfigReader: typed reads of TOML nodes whose errors name the file, the line and the key
// path, the shape every config error has:
//
//   ConfigReader reader("rebound.toml");
//   auto restart = reader.Choice<RestartPolicy>(node, "services.api.restart", kRestartNames);
//   // rebound.toml:12: services.api.restart: unknown value "sometimes"; expected one of: ...
//   for (const ConfigEntry& entry : InFileOrder(table)) ...
//
// Internal to the engine's config parsing. Stateless apart from the file name; thread-safe.
// Nodes are borrowed: the toml::table they come from must outlive the call.

#include <toml++/toml.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/error.h"

namespace rebound::engine {

// One key = value of a table, with where the key was written.
struct ConfigEntry {
  std::string key;
  int line = 0;
  const toml::node* value = nullptr;
};

// toml::table iterates in key order; config semantics (service order, first error) need the
// order of the file.
std::vector<ConfigEntry> InFileOrder(const toml::table& table);

// Levenshtein distance, for did-you-mean suggestions.
int EditDistance(std::string_view a, std::string_view b);
// The candidate within edit distance 2 of `text` (the closest, the first on a tie), or "".
std::string ClosestMatch(std::string_view text, const std::vector<std::string>& candidates);

// "a, b, c".
std::string JoinNames(const std::vector<std::string>& names);

class ConfigReader {
 public:
  explicit ConfigReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // "file:line: key_path: what" (the line is left out when unknown, the key path when empty).
  Error ErrorAt(int line, std::string_view key_path, std::string_view what) const;
  Error ErrorAt(const toml::node& node, std::string_view key_path, std::string_view what) const;

  // A validation Error if `entry` (of the table at `table_path`) is not one of `valid_keys`,
  // suggesting the closest valid key or else listing them all. Callers check each entry as
  // they reach it, so the first error in file order wins.
  Status CheckKey(const ConfigEntry& entry, std::string_view table_path,
                  const std::vector<std::string>& valid_keys) const;

  Result<const toml::table*> Table(const toml::node& node, std::string_view key_path) const;
  Result<std::string> String(const toml::node& node, std::string_view key_path) const;
  // An integer within [min, max].
  Result<int64_t> Integer(const toml::node& node, std::string_view key_path, int64_t min,
                          int64_t max) const;
  Result<bool> Bool(const toml::node& node, std::string_view key_path) const;
  // A float or an integer.
  Result<double> Number(const toml::node& node, std::string_view key_path) const;
  // A string such as "10s" (base/duration.h), at least `min`.
  Result<Duration> DurationValue(const toml::node& node, std::string_view key_path,
                                 Duration min) const;
  // A string such as "10MB" (base/byte_size.h) or an integer count of bytes; at least 1.
  Result<int64_t> ByteSize(const toml::node& node, std::string_view key_path) const;
  // A command line: a non-empty array of strings whose first (the program) is not empty.
  // `node` null (the key is missing) reports at `line`; `example` ends the message, e.g.
  // "command = [\"./api\", \"--port\", \"8081\"]".
  Result<std::vector<std::string>> Command(const toml::node* node, int line,
                                           std::string_view key_path,
                                           std::string_view example) const;

  // A string that must be one of the names in `choices` (pairs of value and spelling).
  template <typename Enum, size_t N>
  Result<Enum> Choice(const toml::node& node, std::string_view key_path,
                      const std::array<std::pair<Enum, std::string_view>, N>& choices) const {
    auto text = String(node, key_path);
    if (!text.ok()) {
      return text.error();
    }
    std::vector<std::string> names;
    for (const auto& [value, name] : choices) {
      if (name == *text) {
        return value;
      }
      names.emplace_back(name);
    }
    return UnknownValue(node, key_path, *text, names);
  }

  Error UnknownValue(const toml::node& node, std::string_view key_path, std::string_view text,
                     const std::vector<std::string>& expected) const;

 private:
  Error WrongType(const toml::node& node, std::string_view key_path,
                  std::string_view expected) const;

  std::string file_;
};

// "services.api" + "restart" -> "services.api.restart".
inline std::string Child(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}

// Runs `apply` on each entry of the table at `node` in file order. Keys are checked against
// `valid_keys` as they come, so the first problem in the file wins; kAnyKey (empty) skips the
// check, for env and depends_on, whose keys are the user's own names.
inline const std::vector<std::string> kAnyKey = {};

template <typename Apply>
Status ForEachEntry(const ConfigReader& reader, const toml::node& node, std::string_view path,
                    const std::vector<std::string>& valid_keys, Apply apply) {
  auto table = reader.Table(node, path);
  if (!table.ok()) {
    return table.error();
  }
  for (const ConfigEntry& entry : InFileOrder(**table)) {
    if (!valid_keys.empty()) {
      REBOUND_RETURN_IF_ERROR(reader.CheckKey(entry, path, valid_keys));
    }
    REBOUND_RETURN_IF_ERROR(apply(entry, Child(path, entry.key)));
  }
  return OkStatus();
}

// Stores a successful read into `field`.
template <typename T, typename Field>
Status Assign(Result<T> result, Field& field) {
  if (!result.ok()) {
    return result.error();
  }
  field = static_cast<Field>(*result);
  return OkStatus();
}

}  // namespace rebound::engine
