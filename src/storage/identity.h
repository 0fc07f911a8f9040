// Identity data behind the Storage facade: accounts (a user's credentials, roles, disabled flag), sessions with
// their rotating refresh tokens, API keys and login throttles. The auth layer decides; storage keeps the rows and
// changes them in the single writer's transactions, each together with its audit entries.
//
// Secrets never reach storage in the clear: passwords arrive as argon2id PHC strings, refresh tokens and API key
// secrets as hex SHA-256 digests. The one exception is a rotated session's successor refresh token, kept sealed
// (secretbox, by the auth layer) for the short reuse window only, so two tabs refreshing at once both get it.
// Thread safety: as Storage — every method from any thread; writes complete on the writer thread after COMMIT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slipway::storage {

struct Account {
  std::string user_id;
  std::string email;                  // as stored in users.email (normalised by the auth layer)
  std::string password_hash;          // PHC string; empty: no password (a later sign-in method)
  std::vector<std::string> roles;     // sorted
  bool disabled = false;
  std::int64_t password_changed_ms = 0;
  bool mfa = false;  // a confirmed second factor (storage/mfa.h): a login needs it after the password
  bool email_verified = false;  // the address was proven by a link mailed to it (storage/email.h)
};

// The account a sign-up creates with its users record (CreateCommand::account); user_id is the new record's id.
struct NewAccount {
  std::string password_hash;
  std::vector<std::string> roles;
};

struct NewSession {
  std::string id;            // UUIDv7, made by the auth layer (it is in the access token's `sid`)
  std::string user_id;       // empty in a sign-up: the new record's id
  std::string refresh_hash;  // hex SHA-256 of the first refresh token
  std::int64_t expires_ms = 0;  // absolute end of the session
  std::int64_t auth_time_ms = 0;
  int aal = 1;
  std::string user_agent;  // as sent, truncated by the auth layer
  std::string address;
};

struct SessionInfo {
  std::string id;
  std::string user_id;
  std::int64_t created_ms = 0;
  std::int64_t last_used_ms = 0;  // last refresh
  std::int64_t expires_ms = 0;    // absolute end
  std::int64_t auth_time_ms = 0;
  int aal = 1;
  std::string user_agent;
  std::string address;
  std::optional<std::int64_t> revoked_ms;
};

// POST /auth/refresh, decided inside one write transaction.
struct RefreshCommand {
  std::string session_id;        // the session the presented token names (its part before the '.')
  std::string presented_hash;    // hex SHA-256 of the presented refresh token
  std::string next_hash;         // of the successor the auth layer made, used if this rotates
  std::string next_sealed;       // the successor sealed, kept for the reuse window
  std::int64_t now_ms = 0;
  std::int64_t idle_timeout_ms = 0;  // a session unused this long is over
  std::int64_t refresh_ttl_ms = 0;   // a refresh token older than this (since it was issued) is not accepted
  std::int64_t reuse_window_ms = 0;  // the previous token still yields the same successor this long after rotation
  std::string address;
  std::string request_id;
};

// What a refresh token leads to, read before the write (so the access token is signed on the event loop, not on
// the writer thread). The write re-checks the session; this is only a head start.
struct RefreshPeek {
  std::string session_id;
  std::string user_id;
  int aal = 1;
  std::vector<std::string> roles;
  bool disabled = false;
};

struct RefreshOutcome {
  enum class Kind {
    kRotated,    // the current token: the successor (next_hash) is now current
    kRepeated,   // the token rotated away within the reuse window: `sealed` holds the successor it rotated to
    kReused,     // a rotated token outside the window: the session is revoked now (and audited)
    kInvalid,    // unknown token, or the session is revoked, expired, idle too long, or its user disabled
  };
  Kind kind = Kind::kInvalid;
  SessionInfo session;
  std::string sealed;
};

// A session revocation: one session, or all of a user's sessions except one (`keep`), or all.
struct RevokeCommand {
  std::string user_id;
  std::optional<std::string> session_id;  // one session (must be the user's); nullopt: all of them but `keep`
  std::string keep;                       // a session to leave alone (empty: none)
  std::string reason;                     // "logout", "revoked", "password_changed", "disabled", "reuse"
  std::int64_t now_ms = 0;
};

// PATCH /admin/users/{id}: what changes (nullopt: unchanged). Disabling revokes every session of the user in the
// same transaction.
struct AccountUpdate {
  std::string user_id;
  std::optional<std::vector<std::string>> roles;  // sorted, each declared in the file (checked by the caller)
  std::optional<bool> disabled;
  std::int64_t now_ms = 0;
};

struct ApiKey {
  std::string id;            // UUIDv7
  std::string prefix;        // the key's public id (auth/opaque_token.h)
  std::string secret_hash;   // hex SHA-256 of the whole key
  std::string name;
  std::vector<std::string> roles;
  std::int64_t created_ms = 0;
  std::string created_by;
  std::optional<std::int64_t> expires_ms;
  std::optional<std::int64_t> revoked_ms;
  std::optional<std::int64_t> last_used_ms;
};

// Login throttling state of one key (account digest or client address), kept so a restart does not reset it.
struct ThrottleRow {
  std::string key;
  std::int64_t failures = 0;
  std::int64_t last_failure_ms = 0;
  std::int64_t locked_until_ms = 0;
};

}  // namespace slipway::storage
