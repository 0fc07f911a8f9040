#include "outbound/retry_policy.h"

#include <algorithm>

namespace slipway::outbound {

bool is_safe_to_retry(AttemptFailure failure, bool idempotent) {
  switch (failure) {
    case AttemptFailure::kNotSent: return true;
    case AttemptFailure::kMaybeReceived: return idempotent;
    case AttemptFailure::kRetryableReply: return idempotent;
    case AttemptFailure::kRefused: return true;
    case AttemptFailure::kPermanent: return false;
  }
  return false;
}

bool is_retryable_http_status(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

bool is_transient_smtp_reply(long code) { return code >= 400 && code < 500; }

std::int64_t RetryPolicy::ceiling_ms(int attempt) const {
  const std::int64_t base = std::max<std::int64_t>(base_delay_ms, 0);
  const std::int64_t cap = std::max<std::int64_t>(max_delay_ms, 0);
  std::int64_t ceiling = base;
  // Doubling stops at the cap, so neither the shift nor the product can overflow.
  for (int i = 1; i < attempt && ceiling > 0 && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

std::int64_t RetryPolicy::delay_ms(int attempt, std::uint64_t random) const {
  const std::int64_t ceiling = ceiling_ms(attempt);
  // The top 53 bits as a fraction in [0, 1), spread over [0, ceiling] inclusive.
  const double fraction = static_cast<double>(random >> 11) * 0x1p-53;
  const auto delay = static_cast<std::int64_t>(fraction * static_cast<double>(ceiling + 1));
  return std::min(delay, ceiling);
}

}  // namespace slipway::outbound
