#include "base/random.h"

namespace rebound {

Random::Random(uint64_t seed) : state_(seed) {}

// splitmix64: small, fast, and good enough for jitter and ids; not for secrets.
uint64_t Random::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Random::NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

Duration Random::UniformDuration(Duration low, Duration high) {
  if (high <= low) {
    return low;
  }
  const uint64_t span = static_cast<uint64_t>((high - low).count()) + 1;
  return low + Duration(static_cast<int64_t>(Next() % span));
}

std::string Random::HexString(int length) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(length);
  for (int i = 0; i < length; ++i) {
    out.push_back(kDigits[Next() & 0xf]);
  }
  return out;
}

}  // namespace rebound
