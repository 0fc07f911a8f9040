// OpenID Connect ID tokens (OIDC Core 1.0 §3.1.3.7): a provider's JWKS and the full validation of an ID token
// against it, before anything in the token is believed.
//
// JwkSet::parse keeps the signing keys of a JWKS document that this code can verify: RSA ("RS256"), EC P-256
// ("ES256") and Ed25519 ("EdDSA"); keys for encryption ("use": "enc"), other curves or types are skipped. Every key
// needs a "kid" (a provider rotating keys names them). At most kMaxKeys keys.
//
// verify_id_token refuses, in this order:
//   1. a token over kMaxIdTokenBytes, or not three base64url parts;
//   2. a header that is not strict JSON (auth/strict_json.h), an "alg" outside {RS256, ES256, EdDSA} (so "none" and
//      "HS256" — a MAC keyed with the public key — never pass), "crit", or an alg that is not the named key's;
//   3. a "kid" naming no key of the set: the caller refetches the provider's JWKS once and tries again
//      (`unknown_kid` is set), since providers rotate keys;
//   4. a signature that does not verify;
//   5. claims that are not strict JSON; "iss" other than the provider's issuer (exact string); "aud" not holding the
//      client id (a string or an array); with several audiences, "azp" other than the client id; "exp" not after
//      now − leeway; "iat" later than now + leeway; "nonce" other than the one this login sent; "sub" missing or
//      empty or over 255 bytes.
// Each refusal is a kUnauthorized Problem with one public detail and the reason in its private cause.
// Thread safety: a JwkSet is immutable after parse; verify_id_token may run on any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace slipway::auth {

inline constexpr std::size_t kMaxIdTokenBytes = 16 * 1024;
inline constexpr std::int64_t kIdTokenLeewaySeconds = 60;

class JwkSet {
 public:
  static constexpr std::size_t kMaxKeys = 32;
  [[nodiscard]] static Result<JwkSet> parse(std::string_view jwks_json);
  JwkSet();
  ~JwkSet();
  JwkSet(JwkSet&&) noexcept;
  JwkSet& operator=(JwkSet&&) noexcept;
  struct Key;  // opaque: the key material (OpenSSL EVP_PKEY or Ed25519 bytes), defined in id_token.cpp
  const Key* find(std::string_view kid) const;
  bool has(std::string_view kid) const { return find(kid) != nullptr; }
  std::size_t size() const { return keys_.size(); }

 private:
  std::vector<std::unique_ptr<Key>> keys_;
};

struct IdTokenCheck {
  std::string issuer;     // from the provider's discovery document (and the file)
  std::string client_id;
  std::string nonce;      // the nonce this login sent
  std::int64_t now_s = 0;
};

struct IdTokenClaims {
  std::string sub;
  std::optional<std::string> email;
  bool email_verified = false;  // only a boolean true counts ("true" as a string does not)
  std::optional<std::string> name;
};

// The claims, or kUnauthorized. `unknown_kid` (may be null) is set when the only fault was a kid not in `keys`.
[[nodiscard]] Result<IdTokenClaims> verify_id_token(std::string_view token, const JwkSet& keys, const IdTokenCheck& check,
                                                    bool* unknown_kid);

}  // namespace slipway::auth
