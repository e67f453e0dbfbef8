#include "engine/sync_config.h"

#include <algorithm>

namespace rebound::engine {
namespace {

const std::vector<std::string> kSyncKeys = {"interval", "strategy", "modules"};
constexpr Duration kShortestSyncInterval = std::chrono::seconds(1);

Result<std::vector<std::string>> ReadSyncModuleNames(const ConfigReader& reader,
                                                     const toml::node& node,
                                                     const std::string& path) {
  const auto bad = [&] {
    return reader.ErrorAt(node, path,
                          "must be an array of module names from [snapshots.modules], e.g. "
                          "modules = [\"llm_orchestrator\"]");
  };
  if (!node.is_array()) {
    return bad();
  }
  std::vector<std::string> names;
  for (const toml::node& element : *node.as_array()) {
    if (!element.is_string() || element.as_string()->get().empty()) {
      return bad();
    }
    names.push_back(element.as_string()->get());
  }
  return names;
}

Result<store::SyncStrategy> ReadSyncStrategy(const ConfigReader& reader, const toml::node& node,
                                             const std::string& path) {
  auto text = reader.String(node, path);
  if (!text.ok()) {
    return text.error();
  }
  auto strategy = store::ParseSyncStrategy(*text);
  if (!strategy.ok()) {
    return reader.UnknownValue(node, path, *text,
                               {"newest-wins", "memory-wins", "persistent-wins"});
  }
  return *strategy;
}

}  // namespace

Status ReadSyncSettings(const ConfigReader& reader, const ConfigEntry& entry,
                        SyncSettings& settings) {
  settings.enabled = true;
  settings.line = entry.line;
  return ForEachEntry(
      reader, *entry.value, "sync", kSyncKeys,
      [&](const ConfigEntry& setting, const std::string& path) -> Status {
        if (setting.key == "interval") {
          auto interval = reader.DurationValue(*setting.value, path, Duration::zero());
          if (interval.ok() && *interval > Duration::zero() && *interval < kShortestSyncInterval) {
            return reader.ErrorAt(*setting.value, path,
                                  "must be \"0\" (on demand only) or at least \"1s\", e.g. "
                                  "interval = \"30s\"");
          }
          return Assign(std::move(interval), settings.interval);
        }
        if (setting.key == "strategy") {
          return Assign(ReadSyncStrategy(reader, *setting.value, path), settings.strategy);
        }
        return Assign(ReadSyncModuleNames(reader, *setting.value, path), settings.modules);
      });
}

Status ResolveSyncModules(const ConfigReader& reader,
                          const std::map<std::string, snapshot::ModuleBinding>& bindings,
                          SyncSettings& settings) {
  if (!settings.enabled) {
    return OkStatus();
  }
  if (settings.modules.empty()) {
    for (const auto& [name, binding] : bindings) {
      if (binding.source && binding.restore) {
        settings.modules.push_back(name);
      }
    }
    if (settings.modules.empty()) {
      return reader.ErrorAt(settings.line, "sync",
                            "no module has both a source and a restore endpoint to sync "
                            "through; add them under [snapshots.modules.NAME] (source = { url = "
                            "\"...\" }, restore = { url = \"...\" }) or remove [sync]");
    }
    return OkStatus();
  }
  for (const std::string& name : settings.modules) {
    const auto found = bindings.find(name);
    if (found == bindings.end()) {
      return reader.ErrorAt(settings.line, "sync.modules",
                            "module \"" + name + "\" is not declared; add a " +
                                "[snapshots.modules." + name + "] table with source and restore");
    }
    if (!found->second.source || !found->second.restore) {
      return reader.ErrorAt(settings.line, "sync.modules",
                            "module \"" + name +
                                "\" needs both source and restore to be synced; "
                                "add the missing one to [snapshots.modules." +
                                name + "]");
    }
  }
  return OkStatus();
}

}  // namespace rebound::engine
