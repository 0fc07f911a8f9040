#include "auth/authenticator.h"

#include <sodium.h>

#include <algorithm>
#include <functional>

#include "auth/access_token.h"
#include "core/sha256.h"

namespace slipway::auth {
namespace {

Problem unauthorized(std::string cause = {}) {
  return Problem::make(ProblemCode::kUnauthorized, "The bearer token is missing, malformed or not valid.",
                       std::move(cause));
}

// An access token refused after it once verified (revoked, expired in the cache) reads exactly like one that never
// did, so its holder learns nothing about its signature.
Problem invalid_access_token(std::string cause) {
  return Problem::make(ProblemCode::kUnauthorized, std::string(kInvalidTokenDetail), std::move(cause));
}

}  // namespace

std::int64_t issued_at_ms_of(std::string_view jti, std::int64_t iat_s) {
  const std::size_t dot = jti.find('.');
  std::int64_t ms = 0;
  const std::string_view digits = jti.substr(0, dot);
  if (dot == std::string_view::npos || digits.empty() || digits.size() > 15) return iat_s * 1000;
  for (char c : digits) {
    if (c < '0' || c > '9') return iat_s * 1000;
    ms = ms * 10 + (c - '0');
  }
  // Signed by us, so honest; still bounded by the whole-second claim it must agree with.
  return ms / 1000 == iat_s ? ms : iat_s * 1000;
}

std::string make_jti(std::int64_t now_ms) {
  unsigned char raw[6];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  return std::to_string(now_ms) + "." + hex;
}

Authenticator::Authenticator(AuthenticatorOptions options, const RevocationList& revocations, const Clock& clock)
    : keys_(std::move(options.keys)),
      issuer_(std::move(options.issuer)),
      audience_(std::move(options.audience)),
      revocations_(revocations),
      clock_(clock) {
  if (!options.admin_token.empty()) admin_digest_ = sha256_raw(options.admin_token);
}

Result<Principal> Authenticator::resolve(std::string_view token) const {
  if (token.empty() || token.size() > kMaxAccessTokenBytes) return unauthorized("token empty or oversized");
  if (std::count(token.begin(), token.end(), '.') == 2) return resolve_access_token(token);
  if (admin_digest_.empty()) return unauthorized("no admin token configured");
  const std::string presented = sha256_raw(token);
  // Constant time: both sides are 32-byte digests, so neither the length nor the content of the secret leaks.
  if (sodium_memcmp(presented.data(), admin_digest_.data(), presented.size()) != 0) return unauthorized();
  return Principal::bootstrap_admin();
}

Result<Principal> Authenticator::resolve_access_token(std::string_view token) const {
  if (!keys_) return invalid_access_token("identity is not enabled");
  const std::int64_t now_s = clock_.now_ms() / 1000;
  const std::size_t hash = std::hash<std::string_view>{}(token);
  Shard& shard = shards_[(hash >> 7) % kShards];  // other bits than the buckets' within a shard
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(token);
    if (it != shard.map.end()) {
      if (it->second.exp_s <= now_s) {
        shard.map.erase(it);
        return invalid_access_token("access token expired");
      }
      if (revocations_.is_revoked(it->second.principal.session_id, *it->second.principal.id, it->second.issued_ms))
        return invalid_access_token("session revoked");
      return it->second.principal;
    }
  }
  auto claims = keys_->verify(token, issuer_, audience_, now_s);
  if (!claims) return std::move(claims).error();
  const std::int64_t issued_ms = issued_at_ms_of(claims->jti, claims->iat);
  if (revocations_.is_revoked(claims->sid, claims->sub, issued_ms)) return invalid_access_token("session revoked");
  Principal p;
  p.kind = PrincipalKind::kUser;
  p.id = claims->sub;
  p.set_roles(claims->roles);
  p.session_id = claims->sid;
  p.aal = claims->aal;
  std::lock_guard lock(shard.mu);
  if (shard.map.size() >= kShardCapacity) shard.map.clear();
  shard.map.emplace(std::string(token), Cached{p, claims->exp, issued_ms});
  return p;
}

}  // namespace slipway::auth
