// Internal to the loader: reading the top-level `rate_limits:` section over the defaults (RateLimitSettings).
//
//   rate_limits:                      # or `rate_limits: off`
//     read:  { address: 300/10s, user: 600/10s, api_key: off }
//     login: { address: 10/m }
//     write: off                      # the whole class
//
// A limit is QUOTA/WINDOW: a whole number of requests and a duration (s, m, h, d; a bare unit is one of it):
// `20/m`, `300/10s`, `1000/h`. What a class or kind leaves out keeps its default.
// Thread safety: one call per load.
#pragma once

#include <optional>
#include <string_view>

#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

inline constexpr std::int64_t kMaxRateQuota = 1'000'000'000;
inline constexpr std::int64_t kMaxRateWindow = 86'400;

void parse_rate_limits(ParseContext& ctx, const Entry& entry, RateLimitSettings& out);

// "300/10s" → {300, 10}; "off" → {0, 0}; nullopt for anything else (no sign, space or fraction).
std::optional<RateLimit> parse_rate_limit(std::string_view text);

}  // namespace slipway::model
