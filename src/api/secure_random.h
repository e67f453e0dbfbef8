#pragma once

// SecureRandomBytes: bytes from the kernel's CSPRNG (getrandom), for secrets such as the API
// token. Not for jitter: use base/Random, which is seeded and reproducible.
//
//   Result<std::string> bytes = SecureRandomBytes(32);
//   if (!bytes.ok()) return bytes.error();
//   std::string token = HexEncode(*bytes);   // 64 lowercase hex digits
//
// Thread-safe; stateless.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace rebound::api {

// Blocks only until the kernel's entropy pool is initialised (early boot), never after.
Result<std::string> SecureRandomBytes(size_t count);

// A source of secret bytes; tests inject a failing one.
using SecureRandomSource = std::function<Result<std::string>(size_t count)>;

// Lowercase hex, two digits per byte.
std::string HexEncode(std::string_view bytes);

}  // namespace rebound::api
