// OpenID Connect data behind the Storage facade (system version 6): sign-ins in flight between the redirect to the
// provider and its callback, and the provider identities linked to users.
// Thread safety: as Storage.
#pragma once

#include <cstdint>
#include <string>

namespace slipway::storage {

// What GET /auth/oidc/{provider} keeps server-side for its callback, under the digest of `state`.
struct OidcState {
  std::string digest;    // hex SHA-256 of the state parameter
  std::string provider;
  std::string nonce;     // must come back in the ID token
  std::string verifier;  // the PKCE code_verifier (the provider saw only its S256 challenge)
  std::string binding;   // hex SHA-256 of the browser cookie that started the sign-in
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

// A provider's user (iss + sub) linked to one of ours.
struct LinkedIdentity {
  std::string provider;
  std::string subject;
  std::string user_id;
  std::string email;  // as the provider gave it when linked (for operators)
};

}  // namespace slipway::storage
