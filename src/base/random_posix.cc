#include <random>

#include "base/random.h"

namespace rebound {

uint64_t Random::EntropySeed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace rebound
