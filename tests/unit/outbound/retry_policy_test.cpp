#include "outbound/retry_policy.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>

namespace slipway::outbound {
namespace {

constexpr std::uint64_t kMaxRandom = std::numeric_limits<std::uint64_t>::max();

TEST(RetryPolicy, CeilingDoublesFromBaseUpToMax) {
  const RetryPolicy p{5, 100, 1000};
  EXPECT_EQ(p.ceiling_ms(1), 100);
  EXPECT_EQ(p.ceiling_ms(2), 200);
  EXPECT_EQ(p.ceiling_ms(3), 400);
  EXPECT_EQ(p.ceiling_ms(4), 800);
  EXPECT_EQ(p.ceiling_ms(5), 1000);
  EXPECT_EQ(p.ceiling_ms(1'000'000), 1000);  // no overflow however many attempts
}

TEST(RetryPolicy, FullJitterSpansZeroToTheCeiling) {
  const RetryPolicy p{5, 100, 1000};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    EXPECT_EQ(p.delay_ms(attempt, 0), 0) << attempt;
    EXPECT_EQ(p.delay_ms(attempt, kMaxRandom), p.ceiling_ms(attempt)) << attempt;
    EXPECT_NEAR(p.delay_ms(attempt, kMaxRandom / 2), p.ceiling_ms(attempt) / 2, 1) << attempt;
  }
}

TEST(RetryPolicy, RandomDelaysStayWithinBoundsAndGrowOnAverage) {
  const RetryPolicy p{8, 50, 5000};
  std::mt19937_64 random(42);
  double previous_mean = -1;
  for (int attempt = 1; attempt <= 7; ++attempt) {
    double sum = 0;
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t d = p.delay_ms(attempt, random());
      ASSERT_GE(d, 0);
      ASSERT_LE(d, p.ceiling_ms(attempt));
      sum += static_cast<double>(d);
    }
    const double mean = sum / 2000;
    EXPECT_GT(mean, previous_mean) << attempt;
    previous_mean = mean;
  }
}

TEST(RetryPolicy, RetriesWhatCannotHaveBeenActedOnAndIdempotentRequestsOnly) {
  EXPECT_TRUE(is_safe_to_retry(AttemptFailure::kNotSent, false));
  EXPECT_TRUE(is_safe_to_retry(AttemptFailure::kNotSent, true));
  EXPECT_FALSE(is_safe_to_retry(AttemptFailure::kMaybeReceived, false));  // a POST may have been received
  EXPECT_TRUE(is_safe_to_retry(AttemptFailure::kMaybeReceived, true));
  EXPECT_FALSE(is_safe_to_retry(AttemptFailure::kRetryableReply, false));
  EXPECT_TRUE(is_safe_to_retry(AttemptFailure::kRetryableReply, true));
  EXPECT_TRUE(is_safe_to_retry(AttemptFailure::kRefused, false));  // an SMTP 4xx: the message was not taken
  EXPECT_FALSE(is_safe_to_retry(AttemptFailure::kPermanent, true));
}

TEST(RetryPolicy, RetryableHttpStatusesAndTransientSmtpReplies) {
  for (int s : {429, 502, 503, 504}) EXPECT_TRUE(is_retryable_http_status(s)) << s;
  for (int s : {200, 400, 401, 404, 409, 500, 501}) EXPECT_FALSE(is_retryable_http_status(s)) << s;
  for (long c : {421L, 450L, 451L, 452L}) EXPECT_TRUE(is_transient_smtp_reply(c)) << c;
  for (long c : {250L, 550L, 552L, 554L}) EXPECT_FALSE(is_transient_smtp_reply(c)) << c;
}

}  // namespace
}  // namespace slipway::outbound
