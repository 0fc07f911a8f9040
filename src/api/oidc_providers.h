// OidcProviders: what slipway knows of each OpenID provider in the file — its discovery document and its keys
// (JWKS), fetched through the outbound client and cached — and the one call of a sign-in that goes to it from the
// server: exchanging the authorization code (with the PKCE verifier) for the ID token.
//
// Caching: a discovery document is kept an hour; keys are kept an hour and fetched again at once when an ID token
// names a kid they do not have (the provider rotated its keys), at most once every kRefetchMs per provider so a
// flood of forged kids cannot make slipway hammer the provider. The discovery document's "issuer" must be exactly
// the file's (OIDC Discovery §4.3), and its endpoints https (http only on loopback, like the file's issuer).
//
// Every method here BLOCKS on the network (outbound/outbound_client.h): call it on the outbound worker pool, never
// on an event loop. Failures to reach a provider are kUnavailable (the circuit breaker's state is in /metrics).
// Thread safety: every method may be called from many threads; the caches have a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "auth/id_token.h"
#include "core/clock.h"
#include "core/concept/model.h"
#include "core/result.h"
#include "outbound/outbound_client.h"

namespace slipway::api {

class OidcProviders {
 public:
  static constexpr std::int64_t kCacheMs = 3'600'000;
  static constexpr std::int64_t kRefetchMs = 10'000;

  struct Endpoints {
    std::string authorization;
    std::string token;
    std::string jwks;
  };

  // `secrets`: each provider's client secret by provider name (from SLIPWAY_OIDC_<NAME>_CLIENT_SECRET[_FILE]).
  OidcProviders(const model::AuthSettings& settings, std::map<std::string, std::string> secrets,
                outbound::OutboundClient& client, const Clock& clock);

  [[nodiscard]] Result<Endpoints> endpoints(const model::OidcProvider& p);
  // The provider's keys; `refresh` (an ID token named a kid they lack) fetches them again, unless the last such
  // refresh was within kRefetchMs.
  [[nodiscard]] Result<std::shared_ptr<const auth::JwkSet>> keys(const model::OidcProvider& p, bool refresh);
  // POST to the token endpoint (client_secret_basic); the ID token of the answer. kUnauthorized when the provider
  // refuses the code (its OAuth error code is in the detail), kUnavailable when it cannot be reached.
  [[nodiscard]] Result<std::string> exchange_code(const model::OidcProvider& p, const Endpoints& e,
                                                  std::string_view code, std::string_view verifier);

 private:
  struct Cached {
    std::int64_t endpoints_at = 0;
    Endpoints endpoints;
    std::int64_t keys_at = 0;
    std::int64_t forced_at = 0;  // the last refresh an unknown kid asked for
    std::shared_ptr<const auth::JwkSet> keys;
  };
  Result<std::string> get_json(const std::string& url);

  std::map<std::string, std::string> secrets_;
  outbound::OutboundClient& client_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;  // GUARDED_BY(mu_), by provider name
};

}  // namespace slipway::api
