// Authenticator: an `Authorization: Bearer` token → the Principal it stands for, or a 401 Problem.
//   - an access token (a JWT: two dots) → a user, after the key ring's checks (key_ring.h) and the revocation list;
//   - anything else → compared with the bootstrap admin token (SHA-256 digests, constant time).
// Verifying an Ed25519 signature costs tens of microseconds, more than serving a cached record, so a verified token
// is remembered (sharded map keyed by the token text, bounded) with its principal until it expires; revocation is
// checked on every use, cached or not. Nothing here reads the database.
// Thread safety: resolve() from every event loop at once.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/key_ring.h"
#include "auth/revocations.h"
#include "core/clock.h"
#include "core/principal.h"
#include "core/result.h"

namespace slipway::auth {

struct AuthenticatorOptions {
  std::string admin_token;             // the secret; only its digest is kept. Empty: no admin token.
  std::shared_ptr<const KeyRing> keys;  // null: identity is off, no access token is valid
  std::string issuer;
  std::string audience;
};

// The minting time slipway writes into a token's `jti` ("<milliseconds>.<random>"), or iat * 1000 for a token
// without one (whole seconds: revocations then also catch tokens minted later in that second).
std::int64_t issued_at_ms_of(std::string_view jti, std::int64_t iat_s);
// A `jti` for a token minted at `now_ms`.
std::string make_jti(std::int64_t now_ms);

class Authenticator {
 public:
  Authenticator(AuthenticatorOptions options, const RevocationList& revocations, const Clock& clock);

  Result<Principal> resolve(std::string_view token) const;

 private:
  struct Cached {
    Principal principal;
    std::int64_t exp_s = 0;
    std::int64_t issued_ms = 0;
  };
  // Looked up by the token's text without copying it (heterogeneous lookup).
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Cached, TextHash, std::equal_to<>> map;  // GUARDED_BY(mu)
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kShardCapacity = 4096;  // a full shard is emptied (bounded memory, cheap)

  Result<Principal> resolve_access_token(std::string_view token) const;

  std::string admin_digest_;
  std::shared_ptr<const KeyRing> keys_;
  std::string issuer_;
  std::string audience_;
  const RevocationList& revocations_;
  const Clock& clock_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace slipway::auth
