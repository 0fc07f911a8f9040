#include "core/concept/rate_limit_parser.h"

#include <string>
#include <vector>

namespace slipway::model {
namespace {

const std::vector<std::string_view> kKinds = {"address", "user", "api_key"};

std::vector<std::string_view> class_names() { return {std::begin(kRateClasses), std::end(kRateClasses)}; }

constexpr std::string_view kExpected =
    "a limit QUOTA/WINDOW (e.g. 300/10s, 20/m, 1000/h) or off";

bool is_off(const YAML::Node& node) { return node.IsScalar() && node.Scalar() == "off"; }

void parse_limit(ParseContext& ctx, const Entry& e, RateLimit& out) {
  const std::optional<RateLimit> limit = e.value.IsScalar() ? parse_rate_limit(e.value.Scalar()) : std::nullopt;
  if (!limit) {
    ctx.expected(e, kExpected);
    return;
  }
  out = *limit;
}

void parse_class(ParseContext& ctx, const Entry& e, RateClassLimits& out) {
  if (is_off(e.value)) {
    out = RateClassLimits{};
    return;
  }
  auto entries = ctx.map_entries(e.value, ParseContext::value_loc(e), "rate_limits." + e.key);
  if (!entries) return;
  for (const Entry& k : ctx.known_entries(*entries, kKinds, "in 'rate_limits." + e.key + "'")) {
    if (k.key == "address") parse_limit(ctx, k, out.address);
    else if (k.key == "user") parse_limit(ctx, k, out.user);
    else parse_limit(ctx, k, out.api_key);
  }
}

}  // namespace

std::optional<RateLimit> parse_rate_limit(std::string_view text) {
  if (text == "off") return RateLimit{};
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view quota = text.substr(0, slash);
  if (quota.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const std::optional<std::int64_t> q = parse_int64(quota);
  if (!q || *q < 1 || *q > kMaxRateQuota) return std::nullopt;
  std::string window(text.substr(slash + 1));
  if (window.size() == 1 && window.find_first_of("smhd") == 0) window.insert(0, "1");  // "20/m"
  const std::optional<std::int64_t> w = parse_duration(window);
  if (!w || *w > kMaxRateWindow) return std::nullopt;
  return RateLimit{static_cast<std::uint32_t>(*q), *w};
}

void parse_rate_limits(ParseContext& ctx, const Entry& entry, RateLimitSettings& out) {
  if (is_off(entry.value)) {
    out.enabled = false;
    return;
  }
  auto entries = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "rate_limits");
  if (!entries) return;
  for (const Entry& e : ctx.known_entries(*entries, class_names(), "in 'rate_limits'")) {
    parse_class(ctx, e, out.classes[RateLimitSettings::class_index(e.key)]);
  }
}

}  // namespace slipway::model
