#include "api/rate_limits.h"

#include <charconv>

namespace slipway::api {
namespace {

constexpr std::string_view kKindNames[] = {"address", "user", "api_key"};

void append_number(std::string& out, std::int64_t n) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

RateLimits::RateLimits(const model::RateLimitSettings& settings, obs::Metrics& metrics, std::size_t slots)
    : enabled_(settings.enabled), limiter_(enabled_ ? slots : RateLimiter::kWays) {
  for (std::size_t c = 0; c < model::kRateClassCount; ++c) {
    const model::RateClassLimits& limits = settings.classes[c];
    const model::RateLimit by_kind[kKinds] = {limits.address, limits.user, limits.api_key};
    for (std::size_t k = 0; k < kKinds; ++k) {
      Policy& p = policies_[c][k];
      p.limit = enabled_ ? by_kind[k] : model::RateLimit{};
      p.name = std::string(model::kRateClasses[c]) + "-" + std::string(kKindNames[k]);
      p.header = "\"" + p.name + "\";q=" + std::to_string(p.limit.quota) + ";w=" + std::to_string(p.limit.window_s);
      p.rejections = metrics.counter("slipway_rate_limit_rejections_total",
                                     "Requests refused with 429 by the rate limits, by route class and bucket kind",
                                     {{"class", std::string(model::kRateClasses[c])}, {"kind", std::string(kKindNames[k])}});
    }
  }
}

RateKey RateLimits::key_of(const Principal& caller) {
  switch (caller.kind) {
    case PrincipalKind::kUser: return RateKey::kUser;
    case PrincipalKind::kApiKey: return RateKey::kApiKey;
    case PrincipalKind::kAdmin:
    case PrincipalKind::kAnonymous: break;
  }
  return RateKey::kAddress;
}

RateCharge RateLimits::charge(std::string_view rate_class, RateKey key, std::string_view identity, std::int64_t now_ns) {
  RateCharge out;
  const std::size_t c = model::RateLimitSettings::class_index(rate_class);
  if (c == model::kRateClassCount) return out;
  const std::size_t k = static_cast<std::size_t>(key);
  Policy& p = policies_[c][k];
  if (!p.limit.on()) return out;
  const RateDecision d = limiter_.take(limiter_.key(static_cast<std::uint32_t>(c * kKinds + k), identity),
                                       RateQuota{p.limit.quota, p.limit.window_s}, now_ns);
  out.limited = true;
  out.allowed = d.allowed;
  out.retry_after_s = d.retry_after_s;
  out.policy = p.header;
  out.rate_class = model::kRateClasses[c];
  out.key = key;
  out.state.reserve(p.name.size() + 24);
  out.state.push_back('"');
  out.state.append(p.name);
  out.state.append("\";r=");
  append_number(out.state, d.remaining);
  out.state.append(";t=");
  append_number(out.state, d.reset_s);
  if (!d.allowed) p.rejections.inc();
  return out;
}

}  // namespace slipway::api
