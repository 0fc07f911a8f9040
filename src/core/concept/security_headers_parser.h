// Internal to the loader: reading the top-level `security_headers:` section.
//
//   security_headers:
//     content_security_policy: "default-src 'self'; img-src 'self' https://cdn.example.com"   # of HTML responses
//     referrer_policy: strict-origin-when-cross-origin
//
// Thread safety: one call per load.
#pragma once

#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

inline constexpr std::size_t kMaxHeaderValue = 4096;

void parse_security_headers(ParseContext& ctx, const Entry& entry, SecurityHeaderSettings& out);

}  // namespace slipway::model
