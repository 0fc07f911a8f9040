#include "core/concept/security_headers_parser.h"

#include <algorithm>
#include <vector>

#include "core/did_you_mean.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kKeys = {"content_security_policy", "referrer_policy"};
// The Referrer-Policy tokens of the W3C Referrer Policy specification.
const std::vector<std::string_view> kReferrerPolicies = {
    "no-referrer",  "no-referrer-when-downgrade",     "origin",    "origin-when-cross-origin",
    "same-origin",  "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"};

// Visible ASCII and spaces only: a header value that cannot break the response (no CR, LF or NUL).
bool header_safe(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

void parse_security_headers(ParseContext& ctx, const Entry& entry, SecurityHeaderSettings& out) {
  auto entries = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "security_headers");
  if (!entries) return;
  for (const Entry& e : ctx.known_entries(*entries, kKeys, "in 'security_headers'")) {
    auto value = ctx.read_string(e);
    if (!value) continue;
    const SourceLoc loc = ParseContext::value_loc(e);
    if (e.key == "content_security_policy") {
      if (value->empty() || value->size() > kMaxHeaderValue || !header_safe(*value)) {
        ctx.error(loc, "content_security_policy must be a policy of 1 to " + std::to_string(kMaxHeaderValue) +
                           " visible ASCII characters (e.g. \"default-src 'self'\")");
        continue;
      }
      out.html_content_security_policy = *value;
    } else if (std::find(kReferrerPolicies.begin(), kReferrerPolicies.end(), *value) == kReferrerPolicies.end()) {
      ctx.error(loc, "unknown referrer_policy '" + *value + "'" + did_you_mean(*value, kReferrerPolicies));
    } else {
      out.referrer_policy = *value;
    }
  }
}

}  // namespace slipway::model
