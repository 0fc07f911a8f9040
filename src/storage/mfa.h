// MFA data behind the Storage facade (system version 4): a user's TOTP factor, their recovery codes and the login
// challenges between the password and the second factor. The auth layer decides; storage keeps the rows and makes
// every single-use check (a TOTP step, a recovery code, a challenge) inside the write transaction that relies on
// it, so two instances — or two requests — cannot both use the same one.
//
// Nothing secret is stored in the clear: the TOTP secret arrives sealed (auth/data_keys.h), recovery codes and
// challenge tokens as SHA-256 digests.
// Thread safety: as Storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slipway::storage {

struct TotpFactor {
  std::string user_id;
  std::string secret_sealed;
  std::int64_t created_ms = 0;
  std::optional<std::int64_t> confirmed_ms;  // nullopt: enrolment begun, not confirmed with a first code
  std::optional<std::int64_t> last_step;     // the last accepted time step: it and every older one are spent
  int recovery_codes_left = 0;
};

// After a correct password, for a user with a confirmed factor: what the mfa_token stands for.
struct MfaChallenge {
  std::string digest;  // hex SHA-256 of the mfa_token
  std::string user_id;
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
  int failures = 0;
};

// The second factor a login or a re-authentication presents, checked and spent in the write transaction.
struct FactorUse {
  std::optional<std::int64_t> totp_step;       // a TOTP code matched this step: it must be later than last_step
  std::optional<std::string> recovery_digest;  // a recovery code: it must be unused
};

}  // namespace slipway::storage
