#include "base/checksum.h"

// Compiled in from the header: no binary needs libxxhash.so at run time, which lets
// rebound-shim link statically (src/CMakeLists.txt).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdio>

namespace rebound {

uint64_t Xxh3(std::string_view data) { return XXH3_64bits(data.data(), data.size()); }

std::string Xxh3Hex(std::string_view data) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(Xxh3(data)));
  return hex;
}

}  // namespace rebound
