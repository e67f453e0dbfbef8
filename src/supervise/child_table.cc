// The pure half of child_table.h: a slot's bytes, and finding a record (through FileSystem).

#include <algorithm>
#include <string_view>

#include "base/atomic_file.h"
#include "supervise/child_table.h"

namespace rebound::supervise {

std::string ChildTablePath(const std::string& run_dir) { return run_dir + "/job:runner.children"; }

std::optional<std::string> EncodeChildSlot(const ChildRecord& record) {
  std::string slot = FrameWithChecksum(record.ToJson().dump());
  if (slot.size() > kChildTableSlotBytes) {
    return std::nullopt;
  }
  slot.resize(kChildTableSlotBytes, '\0');
  return slot;
}

std::vector<ChildRecord> ParseChildTable(std::string_view bytes,
                                         std::optional<std::string_view> name) {
  // The name as the record's JSON holds it, to skip other slots before any parsing.
  const std::string quoted = name ? nlohmann::json(std::string(*name)).dump() : "";
  std::vector<ChildRecord> records;
  for (size_t offset = 0; offset < bytes.size(); offset += kChildTableSlotBytes) {
    std::string_view slot = bytes.substr(offset, kChildTableSlotBytes);
    slot = slot.substr(0, slot.find('\0'));  // JSON holds no NUL: the padding starts there
    if (slot.empty() || (name && slot.find(quoted) == std::string_view::npos)) {
      continue;  // free, or another job's
    }
    auto payload = UnframeChecksummed(slot, "child table slot");
    if (!payload.ok()) {
      continue;  // torn by a write racing this read, or never whole: skipped
    }
    auto json = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      continue;
    }
    if (auto record = ChildRecord::FromJson(json); record.ok() && (!name || record->name == *name)) {
      records.push_back(std::move(*record));
    }
  }
  return records;
}

std::vector<ChildRecord> FindChildRecords(FileSystem& fs, const std::string& run_dir,
                                          const std::string& name) {
  std::vector<ChildRecord> records;
  if (auto bytes = fs.ReadFile(ChildTablePath(run_dir)); bytes.ok()) {
    records = ParseChildTable(*bytes, name);
  }
  if (auto file = ReadChildRecord(fs, ChildRecordPath(run_dir, name)); file.ok()) {
    records.push_back(std::move(*file));
  }
  return records;
}

Result<ChildRecord> FindChildRecord(FileSystem& fs, const std::string& run_dir,
                                    const std::string& name) {
  std::vector<ChildRecord> records = FindChildRecords(fs, run_dir, name);
  if (records.empty()) {
    return NotFoundError("no child record of " + name + " in " + run_dir);
  }
  return *std::max_element(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.started_ms < b.started_ms;
  });
}

}  // namespace rebound::supervise
