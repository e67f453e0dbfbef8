#pragma once

// Crash-safe files outside SQLite: exit records, recovery documents, the token.
//
//   REBOUND_RETURN_IF_ERROR(WriteFileAtomically(fs, "/data/exit.json", json, 0600));
//   REBOUND_RETURN_IF_ERROR(WriteChecksummedFile(fs, "/data/state.json", json));
//   Result<std::string> json = ReadChecksummedFile(fs, "/data/state.json");
//
// WriteFileAtomically: temp file in the same directory, write, fdatasync, rename over the
// target, fsync the directory. A crash at any instant leaves either the old file or the new
// one, never a mix. On failure the temp file is removed and the old file is untouched.
//
// Checksummed files start with one header line, "rebound-xxh3 <16 hex> <payload bytes>\n",
// followed by the payload. A read whose header, length or hash does not match returns a
// corruption Error rather than the damaged bytes.

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/file_system.h"

namespace rebound {

// kDurable: on disk when the call returns (fdatasync before the rename, fsync of the
// directory after). kAtomicOnly: the same temp-and-rename, so a reader (a daemon restarted
// after a crash) sees the old file or the new one, never a mix, but only the page cache holds
// it: a power loss may lose it. Only for facts a power loss makes moot anyway (which process
// is running now); it saves two fsyncs.
enum class FileDurability { kDurable, kAtomicOnly };

Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view data,
                           int mode = 0644, FileDurability durability = FileDurability::kDurable);

Status WriteChecksummedFile(FileSystem& fs, const std::string& path, std::string_view payload,
                            int mode = 0644, FileDurability durability = FileDurability::kDurable);
Result<std::string> ReadChecksummedFile(FileSystem& fs, const std::string& path);

// The checksummed framing on its own, for callers that store the bytes elsewhere.
std::string FrameWithChecksum(std::string_view payload);
Result<std::string> UnframeChecksummed(std::string_view framed, std::string_view what);

// "a/b/c.json" -> "a/b"; "c.json" -> "."; "/c" -> "/".
std::string ParentDir(const std::string& path);

}  // namespace rebound
