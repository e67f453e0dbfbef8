// The pure half of child_table.h: a slot's bytes, and finding a record (through FileSystem).

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

std::vector<ChildRecord> ParseChildTable(std::string_view bytes) {
  std::vector<ChildRecord> records;
  for (size_t offset = 0; offset < bytes.size(); offset += kChildTableSlotBytes) {
    std::string_view slot = bytes.substr(offset, kChildTableSlotBytes);
    slot = slot.substr(0, slot.find('\0'));  // JSON holds no NUL: the padding starts there
    if (slot.empty()) {
      continue;  // free
    }
    auto payload = UnframeChecksummed(slot, "child table slot");
    if (!payload.ok()) {
      continue;  // torn by a write racing this read, or never whole: skipped
    }
    auto json = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      continue;
    }
    if (auto record = ChildRecord::FromJson(json); record.ok()) {
      records.push_back(std::move(*record));
    }
  }
  return records;
}

Result<ChildRecord> FindChildRecord(FileSystem& fs, const std::string& run_dir,
                                    const std::string& name) {
  std::optional<ChildRecord> latest;
  if (auto bytes = fs.ReadFile(ChildTablePath(run_dir)); bytes.ok()) {
    for (ChildRecord& record : ParseChildTable(*bytes)) {
      if (record.name == name && (!latest || record.started_ms >= latest->started_ms)) {
        latest = std::move(record);
      }
    }
  }
  if (latest) {
    return *latest;
  }
  return ReadChildRecord(fs, ChildRecordPath(run_dir, name));
}

}  // namespace rebound::supervise
