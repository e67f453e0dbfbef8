// The runner's half of child_table.h: slots written in place with pwrite.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "supervise/child_table.h"
#include "supervise/process_info.h"

namespace rebound::supervise {
namespace {

// The whole file (a table holds one slot per job running at once: a few KiB).
Result<std::string> ReadAll(int fd, const std::string& path) {
  std::string bytes;
  char buffer[16 * 1024];
  for (off_t offset = 0;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer), offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoError(errno, "read " + path);
    }
    if (n == 0) {
      return bytes;
    }
    bytes.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
}

bool IsAlive(const ChildRecord& record) {
  auto start_time = ProcessStartTime(record.child_pid);
  return start_time.ok() && *start_time == record.child_start_time;
}

Status WriteSlot(int fd, size_t slot, std::string_view bytes) {
  const off_t offset = static_cast<off_t>(slot * kChildTableSlotBytes);
  ssize_t n = -1;
  do {
    n = ::pwrite(fd, bytes.data(), bytes.size(), offset);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return ErrnoError(errno, "write the child table");
  }
  if (static_cast<size_t>(n) != bytes.size()) {
    return ResourceError("short write to the child table (disk full?)");
  }
  return OkStatus();
}

}  // namespace

ChildTable::ChildTable(UniqueFd fd, std::vector<std::optional<ChildRecord>> slots)
    : fd_(std::move(fd)), slots_(std::move(slots)) {}

Result<ChildTable> ChildTable::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.IsOpen()) {
    return ErrnoError(errno, "open " + path);
  }
  auto bytes = ReadAll(fd.get(), path);
  if (!bytes.ok()) {
    return bytes.error();
  }
  // Slot by slot, so that an orphan's record stays where it is (ParseChildTable drops places).
  std::vector<std::optional<ChildRecord>> slots(bytes->size() / kChildTableSlotBytes);
  for (size_t slot = 0; slot < slots.size(); ++slot) {
    auto records = ParseChildTable(
        std::string_view(*bytes).substr(slot * kChildTableSlotBytes, kChildTableSlotBytes));
    if (!records.empty() && IsAlive(records.front())) {
      slots[slot] = std::move(records.front());
    }
  }
  return ChildTable(std::move(fd), std::move(slots));
}

std::optional<size_t> ChildTable::FreeSlot() {
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    if (!slots_[slot]) {
      return slot;
    }
  }
  // Every slot taken: an orphan that has ended since gives its slot back.
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    if (slots_[slot]->shim_pid != ::getpid() && !IsAlive(*slots_[slot])) {
      slots_[slot].reset();
      return slot;
    }
  }
  return std::nullopt;
}

Result<std::optional<size_t>> ChildTable::Put(const ChildRecord& record) {
  std::optional<std::string> bytes = EncodeChildSlot(record);
  if (!bytes) {
    return std::optional<size_t>();
  }
  for (size_t held = 0; held < slots_.size(); ++held) {
    if (slots_[held] && slots_[held]->name == record.name) {
      Clear(held);
    }
  }
  const size_t slot = FreeSlot().value_or(slots_.size());
  REBOUND_RETURN_IF_ERROR(WriteSlot(fd_.get(), slot, *bytes));
  if (slot == slots_.size()) {
    slots_.emplace_back();
  }
  slots_[slot] = record;
  return std::optional<size_t>(slot);
}

void ChildTable::Clear(size_t slot) {
  if (slot >= slots_.size() || !slots_[slot]) {
    return;
  }
  slots_[slot].reset();
  (void)WriteSlot(fd_.get(), slot, std::string(kChildTableSlotBytes, '\0'));
}

}  // namespace rebound::supervise
