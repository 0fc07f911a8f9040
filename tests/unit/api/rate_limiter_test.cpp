#include "api/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace slipway::api {
namespace {

constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kT0 = 1'000 * kS;  // an arbitrary steady time

TEST(RateLimiter, AFullBucketLetsItsQuotaThroughAtOnceThenRefuses) {
  RateLimiter limiter(1024);
  const auto key = limiter.key(0, "192.0.2.1");
  const RateQuota q{5, 60};
  for (std::uint32_t i = 0; i < 5; ++i) {
    const RateDecision d = limiter.take(key, q, kT0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 4 - i);
  }
  const RateDecision refused = limiter.take(key, q, kT0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0u);
  EXPECT_EQ(refused.retry_after_s, 12);  // one request refills every 60 s / 5
  EXPECT_EQ(refused.reset_s, 60);        // the whole bucket in a window
}

TEST(RateLimiter, TheBucketRefillsContinuously) {
  RateLimiter limiter(1024);
  const auto key = limiter.key(0, "a");
  const RateQuota q{10, 10};  // one per second
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take(key, q, kT0).allowed);
  EXPECT_FALSE(limiter.take(key, q, kT0 + kS / 2).allowed);
  EXPECT_TRUE(limiter.take(key, q, kT0 + kS).allowed);
  EXPECT_FALSE(limiter.take(key, q, kT0 + kS).allowed);
  const RateDecision later = limiter.take(key, q, kT0 + 4 * kS);  // three more refilled, one taken
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 2u);
  // After a whole quiet window the bucket is full again, and never fuller.
  const RateDecision rested = limiter.take(key, q, kT0 + 100 * kS);
  EXPECT_TRUE(rested.allowed);
  EXPECT_EQ(rested.remaining, 9u);
}

TEST(RateLimiter, RetryAfterSaysWhenTheNextRequestPasses) {
  RateLimiter limiter(1024);
  const auto key = limiter.key(0, "a");
  const RateQuota q{2, 60};
  ASSERT_TRUE(limiter.take(key, q, kT0).allowed);
  ASSERT_TRUE(limiter.take(key, q, kT0).allowed);
  const RateDecision d = limiter.take(key, q, kT0);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 30);
  EXPECT_FALSE(limiter.take(key, q, kT0 + 29 * kS).allowed);
  EXPECT_TRUE(limiter.take(key, q, kT0 + 30 * kS).allowed);
}

TEST(RateLimiter, RefusedRequestsTakeNothing) {
  RateLimiter limiter(1024);
  const auto key = limiter.key(0, "a");
  const RateQuota q{1, 10};
  ASSERT_TRUE(limiter.take(key, q, kT0).allowed);
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(limiter.take(key, q, kT0 + i).allowed);
  EXPECT_TRUE(limiter.take(key, q, kT0 + 10 * kS).allowed);  // hammering did not push the refill back
}

TEST(RateLimiter, KeysOfDifferentPoliciesOrIdentitiesAreApart) {
  RateLimiter limiter(1024);
  EXPECT_NE(limiter.key(0, "a"), limiter.key(1, "a"));
  EXPECT_NE(limiter.key(0, "a"), limiter.key(0, "b"));
  EXPECT_EQ(limiter.key(3, "user-1"), limiter.key(3, "user-1"));
  const RateQuota q{1, 60};
  ASSERT_TRUE(limiter.take(limiter.key(0, "a"), q, kT0).allowed);
  EXPECT_FALSE(limiter.take(limiter.key(0, "a"), q, kT0).allowed);
  EXPECT_TRUE(limiter.take(limiter.key(0, "b"), q, kT0).allowed);
  EXPECT_TRUE(limiter.take(limiter.key(1, "a"), q, kT0).allowed);
  // Another limiter hashes under another secret key: set positions cannot be predicted from outside.
  RateLimiter other(1024);
  EXPECT_NE(limiter.key(0, "a"), other.key(0, "a"));
}

TEST(RateLimiter, AMillionAddressesFitInTheFixedTableAndEachGetsItsBucket) {
  RateLimiter limiter(4096);
  const RateQuota q{3, 60};
  // A flood of one request from each of a million addresses within a minute: the table never fills up into
  // refusing newcomers (or growing), it forgets partly used buckets instead.
  for (int i = 0; i < 1'000'000; ++i) {
    const std::string address = "10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) + "." +
                                std::to_string(i & 255);
    ASSERT_TRUE(limiter.take(limiter.key(0, address), q, kT0 + i * 60'000LL).allowed) << address;
  }
  EXPECT_GT(limiter.evictions(), 900'000u);
  EXPECT_EQ(limiter.slots(), 4096u);
}

TEST(RateLimiter, AFullAgainBucketMakesRoomBeforeAnyPartlyUsedOneIsEvicted) {
  RateLimiter limiter(8);  // one set of 8 ways
  const RateQuota q{2, 10};
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(limiter.take(limiter.key(0, std::to_string(i)), q, kT0).allowed);
  // A window later every bucket is full again: eight newcomers need no eviction.
  for (int i = 8; i < 16; ++i)
    ASSERT_TRUE(limiter.take(limiter.key(0, std::to_string(i)), q, kT0 + 10 * kS).allowed);
  EXPECT_EQ(limiter.evictions(), 0u);
  ASSERT_TRUE(limiter.take(limiter.key(0, "one more"), q, kT0 + 10 * kS).allowed);
  EXPECT_EQ(limiter.evictions(), 1u);
}

TEST(RateLimiter, ConcurrentTakersNeverLetMoreThanTheQuotaThrough) {
  RateLimiter limiter(1024);
  const auto key = limiter.key(0, "shared");
  const RateQuota q{1000, 3600};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (limiter.take(key, q, kT0).allowed) allowed.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace slipway::api
