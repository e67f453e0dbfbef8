#include "base/random.h"

#include <gtest/gtest.h>

#include <set>

namespace rebound {
namespace {

using namespace std::chrono_literals;

TEST(RandomTest, SameSeedSameSequence) {
  Random a(42);
  Random b(42);
  Random c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(RandomTest, DoublesAndDurationsStayInRange) {
  Random random(7);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = random.NextDouble();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    const Duration d = random.UniformDuration(10ms, 20ms);
    ASSERT_GE(d, 10ms);
    ASSERT_LE(d, 20ms);
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
  EXPECT_EQ(random.UniformDuration(5ms, 5ms), 5ms);
  EXPECT_EQ(random.UniformDuration(5ms, 1ms), 5ms);
}

TEST(RandomTest, HexStringsHaveTheLengthAndAlphabet) {
  Random random(1);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = random.HexString(16);
    ASSERT_EQ(id.size(), 16u);
    ASSERT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_NE(Random::EntropySeed(), Random::EntropySeed());
}

}  // namespace
}  // namespace rebound
