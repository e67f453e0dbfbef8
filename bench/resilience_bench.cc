// Per-call overhead of resilience/ on the success path, against a mutex-based breaker.
//
//   make bench            (or build/bench/resilience_bench --benchmark_min_time=0.5)
//
// Every benchmark runs the same trivial protected operation (returns a Result<int>), so the
// figure is the wrapper's cost. "threads:2" rows share one breaker between two threads.

#include <benchmark/benchmark.h>

#include "base/clock.h"
#include "base/random.h"
#include "mutex_breaker.h"
#include "resilience/circuit_breaker.h"
#include "resilience/retry_policy.h"

namespace rebound {
namespace {

using resilience::CircuitBreaker;

Result<int> Operation(int x) { return x + 1; }

CircuitBreaker& SharedBreaker() {
  static std::unique_ptr<CircuitBreaker> breaker = std::move(*CircuitBreaker::Create(
      "bench", {.window_size = 100, .minimum_calls = 10, .failure_rate_threshold = 0.5},
      DefaultClock()));
  return *breaker;
}

CircuitBreaker& SharedTimeWindowBreaker() {
  static std::unique_ptr<CircuitBreaker> breaker = std::move(*CircuitBreaker::Create(
      "bench-time",
      {.window_kind = resilience::WindowKind::kTimeBased, .window_size = 60, .minimum_calls = 10},
      DefaultClock()));
  return *breaker;
}

bench::MutexBreaker& SharedMutexBreaker() {
  static bench::MutexBreaker breaker(100, 10, 0.5);
  return breaker;
}

void BM_Direct(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) {
    Result<int> r = Operation(x);
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_Direct)->Threads(1)->Threads(2)->UseRealTime();

void BM_Breaker(benchmark::State& state) {
  CircuitBreaker& breaker = SharedBreaker();
  int x = 0;
  for (auto _ : state) {
    Result<int> r = breaker.Call([&] { return Operation(x); });
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_Breaker)->Threads(1)->Threads(2)->UseRealTime();

// What a time-based window pays to find its bucket.
void BM_ClockRead(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(DefaultClock().MonotonicNow());
  }
}
BENCHMARK(BM_ClockRead)->Threads(1)->Threads(2)->UseRealTime();

// A time-based window must count every call, and read the clock to find its bucket.
void BM_BreakerTimeWindow(benchmark::State& state) {
  CircuitBreaker& breaker = SharedTimeWindowBreaker();
  int x = 0;
  for (auto _ : state) {
    Result<int> r = breaker.Call([&] { return Operation(x); });
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_BreakerTimeWindow)->Threads(1)->Threads(2)->UseRealTime();

// 1 failure in 10: the window is never clean, so every call writes to it.
void BM_BreakerTenPercentFailures(benchmark::State& state) {
  CircuitBreaker& breaker = SharedBreaker();
  int i = 0;
  for (auto _ : state) {
    if (breaker.TryAcquirePermission()) {
      ++i % 10 == 0 ? breaker.OnFailure() : breaker.OnSuccess();
    }
  }
}
BENCHMARK(BM_BreakerTenPercentFailures)->Threads(1)->Threads(2)->UseRealTime();

void BM_MutexBreakerBaseline(benchmark::State& state) {
  bench::MutexBreaker& breaker = SharedMutexBreaker();
  int x = 0;
  for (auto _ : state) {
    if (!breaker.TryAcquirePermission()) {
      state.SkipWithError("baseline breaker opened");
      break;
    }
    Result<int> r = Operation(x);
    breaker.OnResult(r.ok());
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_MutexBreakerBaseline)->Threads(1)->Threads(2)->UseRealTime();

void BM_RetrySucceedsFirstTime(benchmark::State& state) {
  static const resilience::RetryPolicy policy = *resilience::RetryPolicy::Create({});
  Random random(1);
  int x = 0;
  for (auto _ : state) {
    Result<int> r = resilience::Retry(policy, DefaultClock(), random, [&] { return Operation(x); });
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_RetrySucceedsFirstTime)->Threads(1)->Threads(2)->UseRealTime();

void BM_RetryAroundBreaker(benchmark::State& state) {
  static const resilience::RetryPolicy policy = *resilience::RetryPolicy::Create({});
  CircuitBreaker& breaker = SharedBreaker();
  Random random(1);
  int x = 0;
  for (auto _ : state) {
    Result<int> r = resilience::Retry(policy, DefaultClock(), random,
                                      [&] { return breaker.Call([&] { return Operation(x); }); });
    benchmark::DoNotOptimize(r);
    x = *r & 0xff;
  }
}
BENCHMARK(BM_RetryAroundBreaker)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace rebound

BENCHMARK_MAIN();
