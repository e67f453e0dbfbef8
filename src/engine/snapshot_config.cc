#include "engine/snapshot_config.h"

#include "base/path.h"
#include "engine/snapshot_module_config.h"

namespace rebound::engine {
namespace {

const std::vector<std::string> kSnapshotKeys = {"path", "redact", "interval", "on_shutdown",
                                                "remote", "modules", "verify_timeout"};
constexpr Duration kMinInterval = std::chrono::seconds(1);

Result<std::vector<std::string>> ReadPatterns(const ConfigReader& reader, const toml::node& node,
                                              const std::string& path) {
  const auto bad = [&] {
    return reader.ErrorAt(node, path,
                          "must be an array of non-empty glob patterns, e.g. redact = "
                          "[\"*key*\", \"*token*\", \"*secret*\", \"*password*\"]");
  };
  if (!node.is_array()) {
    return bad();
  }
  std::vector<std::string> patterns;
  for (const toml::node& element : *node.as_array()) {
    if (!element.is_string() || element.as_string()->get().empty()) {
      return bad();
    }
    patterns.push_back(element.as_string()->get());
  }
  return patterns;
}

}  // namespace

Status ReadSnapshotSettings(const ConfigReader& reader, const ConfigEntry& entry,
                            const std::string& base_dir, SnapshotSettings& settings) {
  return ForEachEntry(
      reader, *entry.value, "snapshots", kSnapshotKeys,
      [&](const ConfigEntry& setting, const std::string& path) -> Status {
        if (setting.key == "path") {
          auto text = reader.String(*setting.value, path);
          if (!text.ok()) {
            return text.error();
          }
          if (text->empty()) {
            return reader.ErrorAt(*setting.value, path,
                                  "must not be empty; e.g. path = \"/backup/rebound-snapshots\"");
          }
          settings.repository_path = JoinPath(base_dir, *text);
          return OkStatus();
        }
        if (setting.key == "interval") {
          auto interval = reader.DurationValue(*setting.value, path, Duration::zero());
          if (interval.ok() && *interval > Duration::zero() && *interval < kMinInterval) {
            return reader.ErrorAt(*setting.value, path,
                                  "must be \"0\" (off) or at least \"1s\", e.g. interval = \"1h\"");
          }
          return Assign(std::move(interval), settings.interval);
        }
        if (setting.key == "remote") {
          auto url = reader.String(*setting.value, path);
          if (url.ok() && url->find("://") == std::string::npos) {
            return reader.ErrorAt(
                *setting.value, path,
                "must be a git URL, e.g. remote = \"file:///backup/rebound.git\"");
          }
          return Assign(std::move(url), settings.remote);
        }
        if (setting.key == "verify_timeout") {
          return Assign(reader.DurationValue(*setting.value, path, Duration::zero()),
                        settings.verify_timeout);
        }
        if (setting.key == "modules") {
          return ReadSnapshotModules(reader, setting, base_dir, settings.modules);
        }
        if (setting.key == "on_shutdown") {
          return Assign(reader.Bool(*setting.value, path), settings.on_shutdown);
        }
        return Assign(ReadPatterns(reader, *setting.value, path), settings.redact);
      });
}

std::string SnapshotRepositoryPath(const SnapshotSettings& settings, const std::string& data_dir) {
  return settings.repository_path.empty() ? JoinPath(data_dir, "snapshots")
                                          : settings.repository_path;
}

}  // namespace rebound::engine
