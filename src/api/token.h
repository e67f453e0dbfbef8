#pragma once

// The API's bearer token: generated on the daemon's first start into DATA_DIR/token (mode
// 0600), read by the CLI, compared in constant time by the HTTP server.
//
//   Result<std::string> token = LoadOrCreateToken(DefaultFileSystem(), "/var/lib/rebound");
//   if (!token.ok()) return token.error();          // e.g. a token file others can read
//   server.Start("127.0.0.1", 7300, *token);
//   ...
//   if (!ConstantTimeEquals(presented, *token)) Reject();
//
// The file holds exactly 64 lowercase hex digits (32 bytes from getrandom); a trailing
// newline is tolerated so an operator may write it with `echo`. It is created atomically
// (temp, fsync, rename, fsync dir), so a crash never leaves a half-written token.
//
// Thread-safe (stateless); the file system must outlive the call.

#include <string>
#include <string_view>

#include "api/secure_random.h"
#include "base/error.h"
#include "base/file_system.h"

namespace rebound::api {

inline constexpr int kTokenFileMode = 0600;
inline constexpr size_t kTokenBytes = 32;

// DATA_DIR/token.
std::string TokenPath(const std::string& data_dir);

// Reads DATA_DIR/token, creating DATA_DIR and the token on first use. Errors:
//   permission  the file's mode is not 0600 (the message says `chmod 600 PATH`), or unreadable
//   corruption  the file does not hold 64 hex digits (the message says how to regenerate it)
//   any         creating the directory or writing the file failed (disk full, read-only...)
Result<std::string> LoadOrCreateToken(FileSystem& fs, const std::string& data_dir);
Result<std::string> LoadOrCreateToken(FileSystem& fs, const std::string& data_dir,
                                      const SecureRandomSource& random_bytes);

// Reads an existing token without checking its mode or creating it: what the CLI does.
Result<std::string> ReadToken(FileSystem& fs, const std::string& data_dir);

// Compares without an early exit, so response timing does not reveal how many leading
// characters of a guessed token were right. Lengths are not secret (always 64).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rebound::api
