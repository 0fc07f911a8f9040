// The rate limiter's cost per request: one bucket taken for a client that stays under its limit (the common case on
// the hot path), and for a flood of distinct addresses (every take finds no entry and claims or evicts a slot).
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "api/rate_limiter.h"

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void BM_RateLimiterTakeOneClient(benchmark::State& state) {
  slipway::api::RateLimiter limiter;
  const slipway::api::RateQuota quota{1'000'000'000, 1};
  for (auto _ : state) {
    const auto key = limiter.key(2, "127.0.0.1");
    benchmark::DoNotOptimize(limiter.take(key, quota, now_ns()));
  }
}
BENCHMARK(BM_RateLimiterTakeOneClient)->ThreadRange(1, 2);

void BM_RateLimiterTakeDistinctAddresses(benchmark::State& state) {
  slipway::api::RateLimiter limiter;
  const slipway::api::RateQuota quota{300, 10};
  std::vector<std::string> addresses;
  for (int i = 0; i < 1 << 20; ++i) addresses.push_back("10." + std::to_string(i >> 12) + "." + std::to_string(i & 4095));
  std::size_t i = 0;
  for (auto _ : state) {
    const auto key = limiter.key(2, addresses[i++ & (addresses.size() - 1)]);
    benchmark::DoNotOptimize(limiter.take(key, quota, now_ns()));
  }
}
BENCHMARK(BM_RateLimiterTakeDistinctAddresses);

}  // namespace
