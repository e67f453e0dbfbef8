#pragma once

// Checksums that guard what rebound writes outside SQLite (xxh3, 64-bit, via libxxhash).
//
//   std::string sum = Xxh3Hex(document);   // "9f2c..." (16 hex digits)

#include <cstdint>
#include <string>
#include <string_view>

namespace rebound {

uint64_t Xxh3(std::string_view data);
// 16 lowercase hex digits.
std::string Xxh3Hex(std::string_view data);

}  // namespace rebound
