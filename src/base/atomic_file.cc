#include "base/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <charconv>

#include "base/checksum.h"

namespace rebound {
namespace {

constexpr std::string_view kMagic = "rebound-xxh3 ";

// Unique per process and call, so concurrent writers of one path never share a temp file.
std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

Status WriteAndSync(FileSystem& fs, const std::string& path, std::string_view data, int mode,
                    FileDurability durability) {
  auto file = fs.NewWritableFile(path, mode);
  if (!file.ok()) {
    return file.error();
  }
  REBOUND_RETURN_IF_ERROR((*file)->Append(data));
  if (durability == FileDurability::kDurable) {
    REBOUND_RETURN_IF_ERROR((*file)->Sync());
  }
  return (*file)->Close();
}

}  // namespace

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view data, int mode,
                           FileDurability durability) {
  const std::string temp = TempPathFor(path);
  Status written = WriteAndSync(fs, temp, data, mode, durability);
  if (written.ok()) {
    written = fs.Rename(temp, path);
  }
  if (!written.ok()) {
    (void)fs.RemoveFile(temp);  // best effort: the error that matters is `written`
    return written.error().WithContext("atomic write of " + path);
  }
  if (durability == FileDurability::kAtomicOnly) {
    return OkStatus();
  }
  Status synced = fs.SyncDir(ParentDir(path));
  if (!synced.ok()) {
    return synced.error().WithContext("atomic write of " + path);
  }
  return OkStatus();
}

std::string FrameWithChecksum(std::string_view payload) {
  std::string framed;
  framed.reserve(payload.size() + 48);
  framed.append(kMagic);
  framed.append(Xxh3Hex(payload));
  framed.push_back(' ');
  framed.append(std::to_string(payload.size()));
  framed.push_back('\n');
  framed.append(payload);
  return framed;
}

Result<std::string> UnframeChecksummed(std::string_view framed, std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return CorruptionError(std::string(what) + ": " + std::string(why) +
                           "; the file is damaged (restore it from a snapshot or remove it)");
  };
  const size_t newline = framed.find('\n');
  if (!framed.starts_with(kMagic) || newline == std::string_view::npos) {
    return corrupt("missing checksum header");
  }
  std::string_view header = framed.substr(kMagic.size(), newline - kMagic.size());
  const size_t space = header.find(' ');
  if (space != 16) {
    return corrupt("malformed checksum header");
  }
  std::string_view stored_hash = header.substr(0, 16);
  std::string_view length_text = header.substr(17);
  size_t length = 0;
  auto [end, ec] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc() || end != length_text.data() + length_text.size()) {
    return corrupt("malformed length in checksum header");
  }
  std::string_view payload = framed.substr(newline + 1);
  if (payload.size() != length) {
    return corrupt("length mismatch (header says " + std::to_string(length) + " bytes, found " +
                   std::to_string(payload.size()) + ")");
  }
  const std::string actual_hash = Xxh3Hex(payload);
  if (actual_hash != stored_hash) {
    return corrupt("checksum mismatch (stored " + std::string(stored_hash) + ", computed " +
                   actual_hash + ")");
  }
  return std::string(payload);
}

Status WriteChecksummedFile(FileSystem& fs, const std::string& path, std::string_view payload,
                            int mode, FileDurability durability) {
  return WriteFileAtomically(fs, path, FrameWithChecksum(payload), mode, durability);
}

Result<std::string> ReadChecksummedFile(FileSystem& fs, const std::string& path) {
  auto framed = fs.ReadFile(path);
  if (!framed.ok()) {
    return framed.error();
  }
  return UnframeChecksummed(*framed, path);
}

}  // namespace rebound
