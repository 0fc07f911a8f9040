// Access tokens: short-lived JWTs (RFC 7519) signed with Ed25519 — JWS compact serialisation, "alg":"EdDSA"
// (RFC 8037) — by the first key of a KeyRing, and verified against any key of it (key_ring.h).
//
//   header  {"alg":"EdDSA","typ":"JWT","kid":"<RFC 7638 thumbprint>"}
//   claims  {"iss","sub","aud","iat","exp","sid","roles":[...],"aal"[,"jti"]}
//
// KeyRing::verify refuses, before anything else is believed:
//   1. a token longer than kMaxAccessTokenBytes, or not exactly three dot-separated base64url parts;
//   2. a header that is not a strict JSON object (strict_json.h: no duplicate names), whose "alg" is not exactly
//      "EdDSA" (so "none", "HS256", "ES256", "eddsa" are refused), that has "crit", a "typ" other than "JWT", any
//      other member than alg/typ/kid, or a "kid" that names no key of the ring;
//   3. a signature that is not 64 bytes or not valid for that key — checked before the claims are even decoded;
//   4. claims that are not a strict JSON object, or miss or mistype a claim: sub and sid (non-empty strings),
//      roles (array of strings), aal (integer 1-3), iat and exp (integers), optional nbf (integer) and jti (string);
//   5. iss other than the expected issuer; aud that is neither the expected audience nor an array holding it;
//   6. exp <= now (no leeway: the token is short-lived, and its issuer's clock is the one that set exp),
//      iat or nbf later than now + kClockLeewaySeconds (servers' clocks may differ a little), exp <= iat.
// Every refusal is a Problem with code kUnauthorized and the same public detail; the precise reason is in its
// private cause, for the log only (names and values from the token there are shortened and made printable).
// Thread safety: plain value types and constants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::auth {

inline constexpr std::size_t kMaxAccessTokenBytes = 8 * 1024;
inline constexpr std::int64_t kClockLeewaySeconds = 30;  // for iat and nbf only; none for exp
inline constexpr std::string_view kInvalidTokenDetail = "the access token is invalid or has expired";

struct AccessClaims {
  std::string sub;                 // the user's id
  std::string sid;                 // the session the token was issued for (revocation is per session)
  std::vector<std::string> roles;  // may be empty
  int aal = 1;                     // authenticator assurance level (NIST SP 800-63B): 1 password, 2 with MFA
  std::int64_t iat = 0;            // issued at, seconds since the Unix epoch
  std::int64_t exp = 0;            // expires at, seconds since the Unix epoch
  std::string iss;                 // issuer
  std::string aud;                 // audience (on verify: the expected audience the token names)
  std::string jti;                 // optional token id; empty = not written
};

}  // namespace slipway::auth
