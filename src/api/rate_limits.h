// RateLimits: the concept file's `rate_limits:` applied to requests (docs/security.md#rate-limits). One bucket per
// route class and caller: a signed-in user's, an API key's, or else the client address's. Says whether a request
// passes and what its `RateLimit-Policy` / `RateLimit` fields say (draft-ietf-httpapi-ratelimit-headers), counts
// refusals in /metrics.
// Thread safety: charge() may run on every event loop at once; the rest is immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/rate_limiter.h"
#include "core/concept/model.h"
#include "core/principal.h"
#include "obs/metrics.h"

namespace slipway::api {

// Whose bucket a request is charged to.
enum class RateKey : std::uint8_t { kAddress, kUser, kApiKey };

struct RateCharge {
  bool limited = false;             // a bucket applied (else nothing is said about limits)
  bool allowed = true;
  std::int64_t retry_after_s = 0;   // refused: when to come back
  std::string_view policy;          // the RateLimit-Policy value: "read-address";q=300;w=10
  std::string state;                // the RateLimit value: "read-address";r=299;t=1
  std::string_view rate_class;
  RateKey key = RateKey::kAddress;
};

class RateLimits {
 public:
  RateLimits(const model::RateLimitSettings& settings, obs::Metrics& metrics,
             std::size_t slots = RateLimiter::kDefaultSlots);

  bool enabled() const { return enabled_; }
  // Whose bucket `caller` is charged to: their own as a user or API key, else (anonymous, the admin token) their
  // address's.
  static RateKey key_of(const Principal& caller);
  // Takes one request of `rate_class` from the bucket of `identity` (the client key of the address, the user id or
  // the API key id). A class or kind without a limit passes with limited = false.
  RateCharge charge(std::string_view rate_class, RateKey key, std::string_view identity, std::int64_t now_ns);
  std::uint64_t evictions() const { return limiter_.evictions(); }

 private:
  struct Policy {
    model::RateLimit limit;
    std::string header;  // RateLimit-Policy value
    std::string name;    // "read-address"
    obs::Counter rejections;
  };
  static constexpr std::size_t kKinds = 3;

  bool enabled_;
  RateLimiter limiter_;
  std::array<std::array<Policy, kKinds>, model::kRateClassCount> policies_;
};

}  // namespace slipway::api
