#pragma once

// Human byte sizes as they appear in config files, e.g. a log file's rotation size.
//
//   ParseByteSize("10MB")   -> 10485760
//   ParseByteSize("1.5KiB") -> 1536
//   ParseByteSize("512")    -> 512
//   FormatByteSize(10485760) -> "10MB"
//
// Grammar: a non-negative number (optional fraction) and an optional unit, case-insensitive:
// B, KB, MB, GB, KiB, MiB, GiB. Units are binary: KB and KiB both mean 1024 bytes, because a
// size limit is about memory and disk blocks, and users write "MB" meaning MiB. Fractions
// are rounded down to whole bytes; a fraction without a unit (or with B) is rejected.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"

namespace rebound {

// A validation Error naming the text and the expected form when it is not a byte size.
Result<int64_t> ParseByteSize(std::string_view text);

// The shortest spelling that ParseByteSize reads back to the same value, with the largest
// unit that keeps it exact within three decimals: "0B", "512B", "1.5KB", "10MB", "1025B".
std::string FormatByteSize(int64_t bytes);

}  // namespace rebound
