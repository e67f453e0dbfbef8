#include "engine/snapshot_config.h"

#include "base/path.h"
#include "engine/snapshot_module_config.h"
#include "snapshot/git_store.h"

namespace rebound::engine {
namespace {

const std::vector<std::string> kSnapshotKeys = {
    "path",       "redact",         "interval",        "on_shutdown", "remote",          "keep",
    "modules",    "verify_timeout", "before_recovery", "on_events",   "trigger_interval",
    "document_path"};
constexpr int64_t kMaxKeep = 1000000;
constexpr Duration kMinInterval = std::chrono::seconds(1);

Status ReadSnapshotKeys(const ConfigReader& reader, const ConfigEntry& entry,
                        const std::string& base_dir, SnapshotSettings& settings);

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

// "category.kind" names, e.g. "service.fatal"; snapshot events are refused (a capture journals
// one: it would trigger itself).
Result<std::vector<std::string>> ReadEventKinds(const ConfigReader& reader, const toml::node& node,
                                                const std::string& path) {
  const auto bad = [&](const std::string& why) {
    return reader.ErrorAt(node, path,
                          why + "; e.g. on_events = [\"service.fatal\", \"service.recovery_failed\"]");
  };
  if (!node.is_array()) {
    return bad("must be an array of \"category.kind\" event names");
  }
  std::vector<std::string> kinds;
  for (const toml::node& element : *node.as_array()) {
    const std::string text = element.is_string() ? element.as_string()->get() : "";
    const size_t dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
      return bad("each must be \"category.kind\", got " + (text.empty() ? "a non-string" : "\"" + text + "\""));
    }
    if (text.rfind("snapshot.", 0) == 0) {
      return bad("snapshot events cannot trigger a capture (a capture journals one)");
    }
    // Only what the daemon journals itself is watched: job transitions commit with the jobs'
    // own writes and never pass by, so a "job.*" kind would be accepted and never fire.
    if (text.rfind("service.", 0) != 0 && text.rfind("daemon.", 0) != 0) {
      return bad("only \"service.*\" and \"daemon.*\" events can trigger a capture, got \"" +
                 text + "\"");
    }
    kinds.push_back(text);
  }
  return kinds;
}

// With document_path, `path` must name the application's repository, and keep (which deletes
// history) is refused: the application's history is never rewritten.
Status CheckApplicationRepository(const ConfigReader& reader, const ConfigEntry& entry,
                                  const SnapshotSettings& settings) {
  if (settings.document_path.empty()) {
    return OkStatus();
  }
  if (settings.repository_path.empty()) {
    return reader.ErrorAt(*entry.value, "snapshots.document_path",
                          "needs snapshots.path to name the application's git repository "
                          "(the directory holding .git), e.g. path = \"/srv/app\"");
  }
  if (settings.keep > 0) {
    return reader.ErrorAt(*entry.value, "snapshots.keep",
                          "cannot be used with snapshots.document_path: retention would rewrite "
                          "the application's history, which rebound never does; remove keep");
  }
  return OkStatus();
}

}  // namespace

Status ReadSnapshotSettings(const ConfigReader& reader, const ConfigEntry& entry,
                            const std::string& base_dir, SnapshotSettings& settings) {
  REBOUND_RETURN_IF_ERROR(ReadSnapshotKeys(reader, entry, base_dir, settings));
  return CheckApplicationRepository(reader, entry, settings);
}

namespace {

Status ReadSnapshotKeys(const ConfigReader& reader, const ConfigEntry& entry,
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
        if (setting.key == "document_path") {
          auto text = reader.String(*setting.value, path);
          if (!text.ok()) {
            return text.error();
          }
          if (Status valid = snapshot::CheckDocumentPath(*text); !valid.ok()) {
            return reader.ErrorAt(*setting.value, path, valid.error().message());
          }
          settings.document_path = *text;
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
        if (setting.key == "keep") {
          // 0: keep every snapshot; N: the newest N plus every tagged one.
          return Assign(reader.Integer(*setting.value, path, 0, kMaxKeep), settings.keep);
        }
        if (setting.key == "before_recovery") {
          return Assign(reader.Bool(*setting.value, path), settings.before_recovery);
        }
        if (setting.key == "on_events") {
          return Assign(ReadEventKinds(reader, *setting.value, path), settings.on_events);
        }
        if (setting.key == "trigger_interval") {
          return Assign(reader.DurationValue(*setting.value, path, Duration::zero()),
                        settings.trigger_interval);
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

}  // namespace

std::string SnapshotRepositoryPath(const SnapshotSettings& settings, const std::string& data_dir) {
  return settings.repository_path.empty() ? JoinPath(data_dir, "snapshots")
                                          : settings.repository_path;
}

}  // namespace rebound::engine
