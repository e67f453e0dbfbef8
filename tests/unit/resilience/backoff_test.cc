#include "resilience/backoff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace rebound::resilience {
namespace {

using namespace std::chrono_literals;

std::vector<Duration> Delays(BackoffConfig config, int count, uint64_t seed = 1) {
  Random random(seed);
  auto backoff = Backoff::Create(std::move(config), random);
  EXPECT_TRUE(backoff.ok());
  std::vector<Duration> delays;
  for (int i = 0; i < count; ++i) {
    delays.push_back(backoff->NextDelay());
  }
  return delays;
}

using Ms = std::vector<Duration>;

TEST(BackoffTest, ZeroDelaysAheadCountsOnlyCertainZeros) {
  Random random(1);
  auto zero = Backoff::Create(
      {.strategy = BackoffStrategy::kFixed, .initial = 0s, .max = 0s, .jitter = Jitter::kFull},
      random);
  EXPECT_EQ(zero->ZeroDelaysAhead(7), 7);
  auto linear = Backoff::Create(
      {.strategy = BackoffStrategy::kLinear, .initial = 0s, .increment = 100ms, .max = 1s}, random);
  EXPECT_EQ(linear->ZeroDelaysAhead(5), 1);
  (void)linear->NextDelay();
  EXPECT_EQ(linear->ZeroDelaysAhead(5), 0);
  EXPECT_EQ(linear->ZeroDelaysAhead(5, /*from_reset=*/true), 1);
  auto exponential = Backoff::Create({.initial = 100ms, .max = 1s, .jitter = Jitter::kFull},
                                     random);  // a draw may be 0, but not certainly
  EXPECT_EQ(exponential->ZeroDelaysAhead(5), 0);
  auto decorrelated =
      Backoff::Create({.initial = 0s, .max = 1s, .jitter = Jitter::kDecorrelated}, random);
  EXPECT_EQ(decorrelated->ZeroDelaysAhead(3), 3);
  auto custom = Backoff::Create({.strategy = BackoffStrategy::kCustom,
                                 .max = 1min,
                                 .custom = [](int retry) { return retry <= 2 ? 0s : 1s; }},
                                random);
  EXPECT_EQ(custom->ZeroDelaysAhead(5), 2);
  auto capped =
      Backoff::Create({.initial = 0s, .max = 0s, .jitter = Jitter::kDecorrelated}, random);
  EXPECT_EQ(capped->ZeroDelaysAhead(4), 4);
}

TEST(BackoffTest, FixedRepeatsInitial) {
  EXPECT_EQ(Delays({.strategy = BackoffStrategy::kFixed, .initial = 5s, .max = 10s}, 3),
            (Ms{5s, 5s, 5s}));
}

TEST(BackoffTest, LinearAddsIncrementUpToMax) {
  EXPECT_EQ(
      Delays({.strategy = BackoffStrategy::kLinear, .initial = 1s, .increment = 5s, .max = 12s}, 4),
      (Ms{1s, 6s, 11s, 12s}));
}

TEST(BackoffTest, ExponentialMultipliesUpToMax) {
  EXPECT_EQ(
      Delays(
          {.strategy = BackoffStrategy::kExponential, .initial = 100ms, .factor = 2.0, .max = 1s},
          6),
      (Ms{100ms, 200ms, 400ms, 800ms, 1s, 1s}));
}

TEST(BackoffTest, ExponentialNeverOverflowsOnHugeRetryCounts) {
  Random random(1);
  auto backoff = Backoff::Create({.initial = 1s, .factor = 10.0, .max = 1h}, random);
  ASSERT_TRUE(backoff.ok());
  EXPECT_EQ(backoff->BaseDelay(10'000), 1h);
}

TEST(BackoffTest, CustomFibonacci) {
  auto fibonacci = [](int n) {
    int64_t a = 0, b = 1;
    for (int i = 0; i < n; ++i) {
      std::tie(a, b) = std::pair(b, a + b);
    }
    return Duration(std::chrono::seconds(a));
  };
  EXPECT_EQ(Delays({.strategy = BackoffStrategy::kCustom, .max = 10s, .custom = fibonacci}, 7),
            (Ms{1s, 1s, 2s, 3s, 5s, 8s, 10s}));
}

TEST(BackoffTest, ResetStartsOver) {
  Random random(1);
  auto backoff = Backoff::Create({.initial = 1s, .factor = 3.0, .max = 1min}, random);
  EXPECT_EQ(backoff->NextDelay(), 1s);
  EXPECT_EQ(backoff->NextDelay(), 3s);
  EXPECT_EQ(backoff->retries(), 2);
  backoff->Reset();
  EXPECT_EQ(backoff->retries(), 0);
  EXPECT_EQ(backoff->NextDelay(), 1s);
}

TEST(BackoffTest, FullJitterStaysWithinZeroAndBaseAndSpreads) {
  Random random(99);
  auto backoff =
      Backoff::Create({.initial = 1s, .factor = 2.0, .max = 8s, .jitter = Jitter::kFull}, random);
  for (int retry = 1; retry <= 5; ++retry) {
    const Duration base = backoff->BaseDelay(retry);
    Duration low = base, high = Duration::zero();
    for (int sample = 0; sample < 2000; ++sample) {
      backoff->Reset();
      for (int i = 1; i < retry; ++i) {
        backoff->NextDelay();
      }
      const Duration d = backoff->NextDelay();
      ASSERT_GE(d, 0s);
      ASSERT_LE(d, base);
      low = std::min(low, d);
      high = std::max(high, d);
    }
    EXPECT_LT(low, base / 10) << "retry " << retry;
    EXPECT_GT(high, base * 9 / 10) << "retry " << retry;
  }
}

TEST(BackoffTest, EqualJitterKeepsAtLeastHalfTheBase) {
  Random random(5);
  auto backoff = Backoff::Create(
      {.strategy = BackoffStrategy::kFixed, .initial = 2s, .max = 2s, .jitter = Jitter::kEqual},
      random);
  Duration low = 2s, high = 0s;
  for (int i = 0; i < 5000; ++i) {
    const Duration d = backoff->NextDelay();
    ASSERT_GE(d, 1s);
    ASSERT_LE(d, 2s);
    low = std::min(low, d);
    high = std::max(high, d);
  }
  EXPECT_LT(low, 1100ms);
  EXPECT_GT(high, 1900ms);
}

TEST(BackoffTest, DecorrelatedJitterStaysBetweenInitialAndThreeTimesPreviousCappedByMax) {
  Random random(3);
  auto backoff =
      Backoff::Create({.initial = 100ms, .max = 5s, .jitter = Jitter::kDecorrelated}, random);
  Duration previous = 100ms;
  bool near_cap = false;
  for (int i = 0; i < 5000; ++i) {
    const Duration d = backoff->NextDelay();
    ASSERT_GE(d, 100ms);
    ASSERT_LE(d, std::min<Duration>(previous * 3, 5s));
    near_cap = near_cap || d > 4500ms;
    previous = d;
  }
  EXPECT_TRUE(near_cap);
}

TEST(BackoffTest, SameSeedSameJitteredSequence) {
  BackoffConfig config{.initial = 1s, .max = 30s, .jitter = Jitter::kFull};
  EXPECT_EQ(Delays(config, 10, 7), Delays(config, 10, 7));
  EXPECT_NE(Delays(config, 10, 7), Delays(config, 10, 8));
}

TEST(BackoffTest, RejectsBadConfigNamingTheField) {
  Random random(1);
  struct Case {
    BackoffConfig config;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{.initial = -1s}, "backoff.initial"},
      {{.increment = -1s}, "backoff.increment"},
      {{.initial = 10s, .max = 1s}, "backoff.max"},
      {{.max = -1s}, "backoff.max"},
      {{.factor = 0.5}, "backoff.factor"},
      {{.factor = std::nan("")}, "backoff.factor"},
      {{.strategy = BackoffStrategy::kCustom}, "backoff.custom"},
  };
  for (const Case& c : cases) {
    auto backoff = Backoff::Create(c.config, random);
    ASSERT_FALSE(backoff.ok()) << c.field;
    EXPECT_EQ(backoff.error().category(), ErrorCategory::kValidation);
    EXPECT_TRUE(backoff.error().message().starts_with(c.field)) << backoff.error().message();
  }
}

TEST(BackoffTest, NamesParseAndRejectUnknown) {
  EXPECT_EQ(*ParseBackoffStrategy("linear"), BackoffStrategy::kLinear);
  EXPECT_EQ(*ParseJitter("decorrelated"), Jitter::kDecorrelated);
  EXPECT_EQ(BackoffStrategyName(BackoffStrategy::kExponential), "exponential");
  EXPECT_EQ(JitterName(Jitter::kEqual), "equal");
  auto bad = ParseJitter("random");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("none, full, equal, decorrelated"), std::string::npos);
  EXPECT_FALSE(ParseBackoffStrategy("custom").ok());
}

}  // namespace
}  // namespace rebound::resilience
