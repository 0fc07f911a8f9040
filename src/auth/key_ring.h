// KeyRing: the access-token keys — one active key that signs, plus older keys that only verify, so keys can be
// rotated without logging everybody out.
//
// Key file (from_text / to_text): one 32-byte Ed25519 seed per line, base64url (as written) or standard base64,
// with or without padding; blank lines and lines starting with '#' are ignored. The first key signs, the others
// only verify. To rotate: put a new key first and keep the old one below it until every token it signed has
// expired (the access-token lifetime), then remove it. The file is secret: whoever reads it can mint tokens.
//
// Thread safety: immutable after construction; const methods may be called from any thread at once. Replacing a
// ring at run time is the owner's business (e.g. an atomically swapped std::shared_ptr<const KeyRing>).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/access_token.h"
#include "auth/signing_key.h"
#include "core/result.h"

namespace slipway::auth {

class KeyRing {
 public:
  // Parses a key file. A Problem (code kInternal; for start-up, its detail is the message to print) names the line
  // of a bad or repeated key and never contains key material; a file without any key is refused too.
  [[nodiscard]] static Result<KeyRing> from_text(std::string_view text);
  // A ring of one fresh random key (dev mode; persist it with to_text so tokens survive a restart).
  static KeyRing generate();

  // The key file for this ring, with each key's kid in a comment above it. Secret: write it with mode 0600.
  std::string to_text() const;
  // {"keys":[{"kty":"OKP","crv":"Ed25519","x":"...","kid":"...","alg":"EdDSA","use":"sig"}, ...]}, active first.
  std::string jwks_json() const;

  const SigningKey& active() const { return keys_.front(); }
  // The key named `kid`, or nullptr.
  const SigningKey* find(std::string_view kid) const;
  std::size_t size() const { return keys_.size(); }

  // A compact JWS of `claims` signed by the active key (access_token.h gives the format). Defined in
  // access_token.cpp.
  std::string sign(const AccessClaims& claims) const;
  // The claims of `token` if every check in access_token.h passes at `now_s` (seconds since the Unix epoch, from
  // the injectable Clock); otherwise a kUnauthorized Problem. Defined in access_token.cpp.
  [[nodiscard]] Result<AccessClaims> verify(std::string_view token, std::string_view expected_iss,
                                            std::string_view expected_aud, std::int64_t now_s) const;

 private:
  explicit KeyRing(std::vector<SigningKey> keys) : keys_(std::move(keys)) {}

  std::vector<SigningKey> keys_;  // never empty; keys_[0] signs
};

}  // namespace slipway::auth
