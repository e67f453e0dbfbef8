#pragma once

// Random: the source of randomness for jitter and ids. Deterministic for a given seed.
//
//   Random random(42);                  // tests: a fixed seed
//   Random random(Random::EntropySeed()); // production
//   double u = random.NextDouble();     // [0, 1)
//
// Not thread-safe: give each owner its own instance.

#include <cstdint>
#include <string>

#include "base/clock.h"

namespace rebound {

class Random {
 public:
  explicit Random(uint64_t seed);

  // A seed from the operating system's entropy source.
  static uint64_t EntropySeed();

  uint64_t Next();
  // Uniform in [0, 1).
  double NextDouble();
  // Uniform in [low, high]; returns low when high <= low.
  Duration UniformDuration(Duration low, Duration high);
  // `length` lowercase hex digits, for generated ids.
  std::string HexString(int length);

 private:
  uint64_t state_;
};

}  // namespace rebound
