#pragma once

// The job runner's child records (exit_record.h's ChildRecord) in one file of fixed-size slots,
// RUN_DIR/job:runner.children, instead of a NAME.child file per job. Starting a job then writes
// one slot in place: no file is created, renamed or deleted per job. (On ext4 without a journal,
// each new inode costs a scan past every inode deleted in the last minutes of its block group:
// ~200 us per file on a busy directory, docs/benchmarks.md.) A record that does not fit a slot
// is left to the caller, which writes NAME.child as before.
//
//   auto table = ChildTable::Open(ChildTablePath(run_dir));     // the runner, at its start
//   std::optional<size_t> slot = table->Put(record);             // a job started
//   table->Clear(*slot);                                          // and was reaped
//   Result<ChildRecord> found = FindChildRecord(fs, run_dir, "job:7");   // the daemon
//
// Each slot holds a checksummed frame (base/atomic_file.h) of the record's JSON, padded with
// NULs; an all-NUL (cleared) slot is free. Slots are written with one pwrite and never fsynced,
// as NAME.child is not: the records name processes, which a power loss ends anyway. A reader
// skips a slot it finds torn (checksum). ChildTable belongs to one thread (the runner's loop);
// FindChildRecord is thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_system.h"
#include "base/unique_fd.h"
#include "supervise/exit_record.h"

namespace rebound::supervise {

inline constexpr size_t kChildTableSlotBytes = 256;

// "RUN_DIR/job:runner.children".
std::string ChildTablePath(const std::string& run_dir);

class ChildTable {
 public:
  // Opens (creating) the table. A slot that names a live process (a job of a runner that died
  // and that no daemon has judged yet) stays taken until that process is gone; the others are
  // free.
  static Result<ChildTable> Open(const std::string& path);

  // Writes `record` into a free slot and returns the slot; nullopt if its frame is longer than
  // a slot. An error if the write fails (the slot stays free). A held orphan's slot of the same
  // name is freed first: the daemon has judged that job, since it starts it again.
  Result<std::optional<size_t>> Put(const ChildRecord& record);

  // Frees `slot`, zeroing it on disk (its job was reaped). Best effort: a stale record names a
  // process that no longer exists (its start time tells), so it is harmless.
  void Clear(size_t slot);

 private:
  ChildTable(UniqueFd fd, std::vector<std::optional<ChildRecord>> slots);
  std::optional<size_t> FreeSlot();

  UniqueFd fd_;
  // What each slot holds; a held orphan's record is checked again when no slot is free.
  std::vector<std::optional<ChildRecord>> slots_;
};

// Every record for `name`: the slots of RUN_DIR's table that name it, then RUN_DIR/NAME.child
// (a record too long for a slot, a failed slot write, or a daemon that does not read the
// table). More than one means all but one are stale: they name processes that are gone.
std::vector<ChildRecord> FindChildRecords(FileSystem& fs, const std::string& run_dir,
                                          const std::string& name);
// The latest started of them; not_found if there is none.
Result<ChildRecord> FindChildRecord(FileSystem& fs, const std::string& run_dir,
                                    const std::string& name);

// The valid records in a table's bytes, slot by slot (torn or empty slots skipped); with
// `name`, only that name's (the other slots are not parsed). Pure.
std::vector<ChildRecord> ParseChildTable(std::string_view bytes,
                                         std::optional<std::string_view> name = std::nullopt);

// One slot's bytes for `record`: its frame padded with NULs; nullopt if longer than a slot. Pure.
std::optional<std::string> EncodeChildSlot(const ChildRecord& record);

}  // namespace rebound::supervise
