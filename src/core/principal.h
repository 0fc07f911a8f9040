// Principal: who is asking. Resolved once per request by the api layer (an access token, an API key, the bootstrap
// admin token, or nobody), then read by rules at execution and by every cache that stores an answer for it.
//
// rule_key() is the one place that says which of a principal's properties an answer may depend on: the record
// cache, the list cache and the idempotency scope all key on it. A property that rules can see (today: the admin
// bypass, @auth.id, @auth.roles and @auth.aal) must be part of it — principal_test.cpp fails for any such property that two
// principals differ in while sharing a key.
// Thread safety: a value type; a const Principal may be read by any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

enum class PrincipalKind : std::uint8_t {
  kAnonymous,  // no credentials
  kUser,       // an access token of a signed-in user
  kApiKey,     // a service's API key
  kAdmin,      // the bootstrap admin token (automation, first set-up)
};

struct Principal {
  PrincipalKind kind = PrincipalKind::kAnonymous;
  std::optional<std::string> id;    // @auth.id: the user's or API key's id, "admin" for the token; null anonymous
  std::vector<std::string> roles;   // @auth.roles, sorted and unique
  std::vector<std::string> scopes;  // what an API key or a delegated token may do (empty: what its roles allow)
  std::string session_id;           // the session an access token belongs to; empty otherwise
  int aal = 0;                      // authenticator assurance level: 0 anonymous, 1 one factor, 2 a second factor
  std::int64_t auth_time_ms = 0;    // when the session's user authenticated (0: not a session)

  // The admin passes every rule and may filter and sort on hidden fields: the bootstrap token, and whoever holds
  // the `admin` role (a role like any other in how it is granted; docs/security.md).
  bool admin() const { return kind == PrincipalKind::kAdmin || has_role("admin"); }
  bool anonymous() const { return kind == PrincipalKind::kAnonymous; }
  bool has_role(std::string_view role) const { return std::binary_search(roles.begin(), roles.end(), role); }

  // Sorts and de-duplicates roles (has_role needs them sorted).
  void set_roles(std::vector<std::string> r) {
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
    roles = std::move(r);
  }

  static Principal bootstrap_admin() {
    Principal p;
    p.kind = PrincipalKind::kAdmin;
    p.id = "admin";
    p.roles = {"admin"};
    p.aal = 1;
    return p;
  }
};

// "anonymous", "user", "api_key", "admin": how logs and the audit log name a kind.
inline std::string_view kind_name(PrincipalKind k) {
  switch (k) {
    case PrincipalKind::kUser: return "user";
    case PrincipalKind::kApiKey: return "api_key";
    case PrincipalKind::kAdmin: return "admin";
    case PrincipalKind::kAnonymous: break;
  }
  return "anonymous";
}

// Everything rules can observe of `p`, as one string: two principals with the same key get the same answer from
// every rule, so caches and idempotency scopes may be shared between them, and only then.
std::string rule_key(const Principal& p);

}  // namespace slipway
