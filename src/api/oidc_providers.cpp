#include "api/oidc_providers.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/base64url.h"
#include "core/text_formats.h"

namespace slipway::api {
namespace {

namespace json = boost::json;

Problem unreachable(const std::string& cause) {
  return Problem::make(ProblemCode::kUnavailable, "The identity provider cannot be reached right now; try again later.",
                       cause);
}

bool endpoint_ok(std::string_view u) {
  if (!valid_url(u)) return false;
  return u.starts_with("https://") || u.starts_with("http://127.0.0.1") || u.starts_with("http://localhost") ||
         u.starts_with("http://[::1]");
}

std::string member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

OidcProviders::OidcProviders(const model::AuthSettings&, std::map<std::string, std::string> secrets,
                             outbound::OutboundClient& client, const Clock& clock)
    : secrets_(std::move(secrets)), client_(client), clock_(clock) {}

Result<std::string> OidcProviders::get_json(const std::string& url) {
  outbound::HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.headers.push_back({"Accept", "application/json"});
  auto r = client_.http(req);
  if (!r) return unreachable("GET " + url + ": " + r.error().cause);
  if (r->status != 200) return unreachable("GET " + url + ": status " + std::to_string(r->status));
  return std::move(r->body);
}

Result<OidcProviders::Endpoints> OidcProviders::endpoints(const model::OidcProvider& p) {
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mu_);
    const Cached& c = cache_[p.name];
    if (c.endpoints_at != 0 && now - c.endpoints_at < kCacheMs) return c.endpoints;
  }
  auto text = get_json(p.issuer + "/.well-known/openid-configuration");
  if (!text) return std::move(text).error();
  std::error_code ec;
  json::value doc = json::parse(*text, ec);
  if (ec || !doc.is_object()) return unreachable("discovery document is not a JSON object");
  const json::object& o = doc.get_object();
  if (member(o, "issuer") != p.issuer)
    return unreachable("discovery document names issuer '" + member(o, "issuer").substr(0, 100) + "', not the file's");
  Endpoints e{member(o, "authorization_endpoint"), member(o, "token_endpoint"), member(o, "jwks_uri")};
  if (!endpoint_ok(e.authorization) || !endpoint_ok(e.token) || !endpoint_ok(e.jwks))
    return unreachable("discovery document lacks an https authorization, token or jwks endpoint");
  std::lock_guard lock(mu_);
  Cached& c = cache_[p.name];
  c.endpoints = e;
  c.endpoints_at = now;
  return e;
}

Result<std::shared_ptr<const auth::JwkSet>> OidcProviders::keys(const model::OidcProvider& p, bool refresh) {
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mu_);
    Cached& c = cache_[p.name];
    const bool fresh = c.keys && now - c.keys_at < kCacheMs;
    if (fresh && !refresh) return c.keys;
    if (refresh) {
      if (c.keys && c.forced_at != 0 && now - c.forced_at < kRefetchMs) return c.keys;
      c.forced_at = now;
    }
  }
  auto e = endpoints(p);
  if (!e) return std::move(e).error();
  auto text = get_json(e->jwks);
  if (!text) return std::move(text).error();
  auto set = auth::JwkSet::parse(*text);
  if (!set) return std::move(set).error();
  auto shared = std::make_shared<const auth::JwkSet>(std::move(*set));
  std::lock_guard lock(mu_);
  Cached& c = cache_[p.name];
  c.keys = shared;
  c.keys_at = now;
  return shared;
}

Result<std::string> OidcProviders::exchange_code(const model::OidcProvider& p, const Endpoints& e,
                                                 std::string_view code, std::string_view verifier) {
  outbound::HttpRequest req;
  req.method = "POST";
  req.url = e.token;
  req.idempotent = false;
  // client_secret_basic (RFC 6749 §2.3.1): id and secret form-encoded, then base64.
  const auto secret = secrets_.find(p.name);
  const std::string credentials =
      percent_encode(p.client_id) + ":" + percent_encode(secret == secrets_.end() ? "" : secret->second);
  std::string basic = auth::base64url_encode(credentials);
  for (char& ch : basic) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;  // standard alphabet
  while (basic.size() % 4 != 0) basic += '=';
  req.headers.push_back({"Authorization", "Basic " + basic});
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  req.headers.push_back({"Accept", "application/json"});
  req.body = "grant_type=authorization_code&code=" + percent_encode(code) +
             "&redirect_uri=" + percent_encode(p.redirect_uri) + "&code_verifier=" + percent_encode(verifier);
  auto r = client_.http(req);
  if (!r) return unreachable("token endpoint: " + r.error().cause);
  std::error_code ec;
  json::value doc = json::parse(r->body, ec);
  const json::object* o = !ec && doc.is_object() ? &doc.get_object() : nullptr;
  if (r->status != 200) {
    std::string error = o ? member(*o, "error") : "";
    for (char& ch : error)
      if (!((ch >= 'a' && ch <= 'z') || ch == '_')) ch = '?';
    if (r->status >= 500 || error.empty())
      return unreachable("token endpoint answered " + std::to_string(r->status));
    return Problem::make(ProblemCode::kUnauthorized,
                         "The identity provider refused the sign-in (" + error.substr(0, 40) + "). Start again.",
                         "token endpoint: " + std::to_string(r->status) + " " + error);
  }
  const std::string id_token = o ? member(*o, "id_token") : "";
  if (id_token.empty()) return unreachable("token endpoint answered without an id_token");
  return id_token;
}

}  // namespace slipway::api
