#include "base/byte_size.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <limits>

namespace rebound {
namespace {

struct SizeUnit {
  std::string_view name;  // lowercase
  int64_t bytes;
};

constexpr int64_t kKibi = 1024;
constexpr std::array<SizeUnit, 7> kSizeUnits = {{
    {"b", 1},
    {"kb", kKibi},
    {"kib", kKibi},
    {"mb", kKibi* kKibi},
    {"mib", kKibi* kKibi},
    {"gb", kKibi* kKibi* kKibi},
    {"gib", kKibi* kKibi* kKibi},
}};

Error BadByteSize(std::string_view text, std::string_view why) {
  return ValidationError("invalid byte size \"" + std::string(text) + "\": " + std::string(why) +
                         "; expected a number and an optional unit (B, KB, MB, GB, KiB, MiB, "
                         "GiB), e.g. 512, 10MB, 1.5GiB");
}

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower;
}

const SizeUnit* FindUnit(std::string_view suffix) {
  const std::string lower = Lowercase(suffix);
  for (const SizeUnit& unit : kSizeUnits) {
    if (unit.name == lower) {
      return &unit;
    }
  }
  return nullptr;
}

// Length of the leading "digits[.digits]" of `text`.
size_t NumberLength(std::string_view text) {
  size_t length = 0;
  bool seen_point = false;
  while (length < text.size() && (std::isdigit(static_cast<unsigned char>(text[length])) ||
                                  (text[length] == '.' && !seen_point))) {
    seen_point = seen_point || text[length] == '.';
    ++length;
  }
  return length;
}

}  // namespace

Result<int64_t> ParseByteSize(std::string_view text) {
  if (text.empty()) {
    return BadByteSize(text, "empty");
  }
  if (text.front() == '-') {
    return BadByteSize(text, "negative sizes are not allowed");
  }
  const size_t number_length = NumberLength(text);
  const std::string_view number = text.substr(0, number_length);
  if (number.empty() || number == ".") {
    return BadByteSize(text, "a number is missing");
  }
  std::string_view suffix = text.substr(number_length);
  if (suffix.starts_with(' ')) {
    suffix.remove_prefix(1);  // "10 MB" reads naturally; allow one space.
  }
  const SizeUnit* unit = suffix.empty() ? &kSizeUnits[0] : FindUnit(suffix);
  if (unit == nullptr) {
    return BadByteSize(text, "unknown unit \"" + std::string(suffix) + "\"");
  }
  const bool has_fraction = number.find('.') != std::string_view::npos;
  if (has_fraction && unit->bytes == 1) {
    return BadByteSize(text, "a fraction of a byte");
  }
  // long double has a 64-bit mantissa on x86-64: every int64 is exact.
  const long double bytes =
      std::strtold(std::string(number).c_str(), nullptr) * static_cast<long double>(unit->bytes);
  if (bytes >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return BadByteSize(text, "too large");
  }
  return static_cast<int64_t>(bytes);
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes < 0) {
    return std::to_string(bytes) + "B";  // never parsed back; only a bug upstream gets here
  }
  constexpr std::array<std::pair<int64_t, std::string_view>, 3> kLargestFirst = {{
      {kKibi * kKibi * kKibi, "GB"},
      {kKibi * kKibi, "MB"},
      {kKibi, "KB"},
  }};
  constexpr int64_t kThousandths = 1000;
  for (const auto& [unit_bytes, name] : kLargestFirst) {
    if (bytes < unit_bytes) {
      continue;
    }
    const int64_t whole = bytes / unit_bytes;
    const int64_t remainder = bytes % unit_bytes;
    // remainder * 1000 stays far below int64 max since remainder < 2^30.
    if ((remainder * kThousandths) % unit_bytes != 0) {
      continue;
    }
    std::string out = std::to_string(whole);
    if (remainder != 0) {
      std::string digits = std::to_string(kThousandths + remainder * kThousandths / unit_bytes);
      digits = digits.substr(1);
      while (digits.back() == '0') {
        digits.pop_back();
      }
      out += "." + digits;
    }
    return out + std::string(name);
  }
  return std::to_string(bytes) + "B";
}

}  // namespace rebound
