#include "engine/snapshot_module_config.h"

#include "base/path.h"
#include "store/module_state.h"

namespace rebound::engine {
namespace {

const std::vector<std::string> kModuleKeys = {"source", "restore", "timeout", "required"};
const std::vector<std::string> kEndpointKeys = {"url", "file", "command"};
constexpr Duration kDefaultTimeout = std::chrono::seconds(5);
constexpr Duration kMinTimeout = std::chrono::milliseconds(10);

Result<std::vector<std::string>> ReadCommand(const ConfigReader& reader, const toml::node& node,
                                             const std::string& path) {
  return reader.Command(&node, 0, path, "command = [\"./app\", \"--dump-state\"]");
}

// One of { url = "..." }, { file = "..." }, { command = [...] }.
Result<snapshot::ModuleEndpoint> ReadEndpoint(const ConfigReader& reader, const ConfigEntry& entry,
                                              const std::string& path,
                                              const std::string& base_dir) {
  const std::string example = "e.g. " + entry.key +
                              " = { url = \"http://127.0.0.1:8080/state\" } (or file = \"PATH\", "
                              "or command = [\"PROG\", \"ARG\"])";
  auto table = reader.Table(*entry.value, path);
  if (!table.ok()) {
    return table.error();
  }
  if ((*table)->size() != 1) {
    return reader.ErrorAt(*entry.value, path, "must have exactly one of url, file, command; " +
                                                  example);
  }
  const ConfigEntry kind = InFileOrder(**table).front();
  REBOUND_RETURN_IF_ERROR(reader.CheckKey(kind, path, kEndpointKeys));
  const std::string kind_path = Child(path, kind.key);
  snapshot::ModuleEndpoint endpoint;
  if (kind.key == "command") {
    auto command = ReadCommand(reader, *kind.value, kind_path);
    REBOUND_RETURN_IF_ERROR(Assign(std::move(command), endpoint.command));
    endpoint.kind = snapshot::EndpointKind::kCommand;
    return endpoint;
  }
  auto text = reader.String(*kind.value, kind_path);
  if (!text.ok()) {
    return text.error();
  }
  if (kind.key == "url") {
    if (text->rfind("http://", 0) != 0 && text->rfind("https://", 0) != 0) {
      return reader.ErrorAt(*kind.value, kind_path,
                            "must be an http:// or https:// URL; " + example);
    }
    endpoint.kind = snapshot::EndpointKind::kUrl;
    endpoint.location = *text;
    return endpoint;
  }
  if (text->empty()) {
    return reader.ErrorAt(*kind.value, kind_path, "must not be empty; " + example);
  }
  endpoint.kind = snapshot::EndpointKind::kFile;
  endpoint.location = JoinPath(base_dir, *text);
  return endpoint;
}

Status CheckBinding(const ConfigReader& reader, const ConfigEntry& module, const std::string& path,
                    const snapshot::ModuleBinding& binding) {
  if (!binding.source && !binding.restore) {
    return reader.ErrorAt(*module.value, path,
                          "needs a source, a restore target or both, e.g. source = { url = "
                          "\"http://127.0.0.1:8080/state\" }");
  }
  if (binding.required && !binding.source) {
    return reader.ErrorAt(*module.value, Child(path, "required"),
                          "needs a source to require; add source = { ... } or remove required");
  }
  return OkStatus();
}

Status ReadModule(const ConfigReader& reader, const ConfigEntry& module, const std::string& path,
                  const std::string& base_dir, snapshot::ModuleBinding& binding) {
  if (Status name = store::ValidateModuleName(module.key); !name.ok()) {
    return reader.ErrorAt(*module.value, path, name.error().message());
  }
  Duration timeout = kDefaultTimeout;
  REBOUND_RETURN_IF_ERROR(ForEachEntry(
      reader, *module.value, path, kModuleKeys,
      [&](const ConfigEntry& setting, const std::string& key_path) -> Status {
        if (setting.key == "timeout") {
          return Assign(reader.DurationValue(*setting.value, key_path, kMinTimeout), timeout);
        }
        if (setting.key == "required") {
          return Assign(reader.Bool(*setting.value, key_path), binding.required);
        }
        auto endpoint = ReadEndpoint(reader, setting, key_path, base_dir);
        if (!endpoint.ok()) {
          return endpoint.error();
        }
        (setting.key == "source" ? binding.source : binding.restore) = std::move(*endpoint);
        return OkStatus();
      }));
  for (auto* endpoint : {&binding.source, &binding.restore}) {
    if (endpoint->has_value()) {
      (*endpoint)->timeout = timeout;
    }
  }
  return CheckBinding(reader, module, path, binding);
}

}  // namespace

Status ReadSnapshotModules(const ConfigReader& reader, const ConfigEntry& entry,
                          const std::string& base_dir,
                          std::map<std::string, snapshot::ModuleBinding>& modules) {
  return ForEachEntry(reader, *entry.value, "snapshots.modules", kAnyKey,
                      [&](const ConfigEntry& module, const std::string& path) -> Status {
                        return ReadModule(reader, module, path, base_dir, modules[module.key]);
                      });
}

}  // namespace rebound::engine
