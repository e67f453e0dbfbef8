#include "api/token.h"

#include <algorithm>
#include <cstdio>

#include "base/atomic_file.h"

namespace rebound::api {
namespace {

bool IsTokenText(std::string_view text) {
  return text.size() == kTokenBytes * 2 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string OctalMode(int mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", mode);
  return text;
}

Result<std::string> ParseToken(const std::string& path, std::string contents) {
  while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r')) {
    contents.pop_back();
  }
  if (!IsTokenText(contents)) {
    return CorruptionError("token file " + path + " does not hold 64 hex digits; remove it (rm " +
                           path + ") and restart the daemon to generate a new token");
  }
  return contents;
}

Result<std::string> CreateToken(FileSystem& fs, const std::string& path,
                                const SecureRandomSource& random_bytes) {
  Result<std::string> bytes = random_bytes(kTokenBytes);
  if (!bytes.ok()) {
    return bytes.error().WithContext("generate API token");
  }
  if (bytes->size() != kTokenBytes) {
    return UnknownError("generate API token: got " + std::to_string(bytes->size()) +
                        " random bytes, wanted " + std::to_string(kTokenBytes));
  }
  std::string token = HexEncode(*bytes);
  REBOUND_RETURN_IF_ERROR(WriteFileAtomically(fs, path, token, kTokenFileMode));
  return token;
}

}  // namespace

std::string TokenPath(const std::string& data_dir) { return data_dir + "/token"; }

Result<std::string> LoadOrCreateToken(FileSystem& fs, const std::string& data_dir) {
  return LoadOrCreateToken(fs, data_dir, SecureRandomBytes);
}

Result<std::string> LoadOrCreateToken(FileSystem& fs, const std::string& data_dir,
                                      const SecureRandomSource& random_bytes) {
  const std::string path = TokenPath(data_dir);
  if (!fs.Exists(path)) {
    REBOUND_RETURN_IF_ERROR(fs.CreateDirs(data_dir));
    return CreateToken(fs, path, random_bytes);
  }
  Result<int> mode = fs.FileMode(path);
  if (!mode.ok()) {
    return mode.error().WithContext("API token");
  }
  if (*mode != kTokenFileMode) {
    return PermissionError("token file " + path + " has mode " + OctalMode(*mode) +
                           "; it must be readable by its owner only: run `chmod 600 " + path + "`");
  }
  return ReadToken(fs, data_dir);
}

Result<std::string> ReadToken(FileSystem& fs, const std::string& data_dir) {
  const std::string path = TokenPath(data_dir);
  Result<std::string> contents = fs.ReadFile(path);
  if (!contents.ok()) {
    return contents.error().WithContext("API token");
  }
  return ParseToken(path, std::move(contents).value());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace rebound::api
