// Internal to the loader: reading the top-level `cors:` section into CorsSettings, every value checked against
// what a browser actually sends (an origin that can never match is an error, not a silent no-op).
// Thread safety: one call per load.
#pragma once

#include <string_view>

#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

inline constexpr std::int64_t kMaxCorsMaxAge = 86400;  // Firefox's cap; Chromium caps at 7200

void parse_cors(ParseContext& ctx, const Entry& entry, CorsSettings& out);

// True for "scheme://host[:port]" exactly as a browser sends it in `Origin` (lower case, no default port, no
// path); `suggestion` is set to that form when `origin` is close to one (upper case, a trailing slash, ...).
bool is_serialized_origin(std::string_view origin, std::string& suggestion);

}  // namespace slipway::model
