// MfaStore: TOTP factors, recovery codes and login challenges (storage/mfa.h; tables of system version 4) over the
// driver seam. Reads run on the caller's read connection, writes as ops of the writer, each with its audit entries
// in the same transaction. Every single-use check is a conditional UPDATE/DELETE whose row count decides, inside
// the transaction that relies on it:
//   a TOTP step      UPDATE _slipway_totp SET last_step = s WHERE ... last_step IS NULL OR last_step < s   (1 row)
//   a recovery code  UPDATE _slipway_recovery_codes SET used_ms = now WHERE ... used_ms IS NULL             (1 row)
//   a challenge      DELETE FROM _slipway_mfa_challenges WHERE digest = d AND live                         (1 row)
// On PostgreSQL a second transaction touching the same row waits for the first and then sees its change, so of two
// concurrent uses exactly one counts.
// Thread safety: as the record store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/audit.h"
#include "storage/driver.h"
#include "storage/identity.h"
#include "storage/mfa.h"

namespace slipway::storage {

class IdentityStore;

class MfaStore {
 public:
  using Reader = std::function<Result<ReadLease>()>;
  using Submit = std::function<void(WriteOp)>;
  static constexpr int kMaxChallengeFailures = 5;  // wrong codes a challenge takes before the password is needed again

  MfaStore(IdentityStore& identity, Reader reader, Submit submit);

  Result<std::optional<TotpFactor>> find_totp(std::string_view user_id);
  // The live challenge (not expired, fewer than kMaxChallengeFailures failures), or nullopt.
  Result<std::optional<MfaChallenge>> find_challenge(std::string_view digest, std::int64_t now_ms);

  // Enrolment: a new unconfirmed factor, replacing an unconfirmed one; kConflict when the user has a confirmed one.
  void begin_totp(std::string user_id, std::string secret_sealed, std::int64_t now_ms, std::vector<AuditEntry> audit,
                  std::function<void(Status)> done);
  // Confirmation with a first code (its step is spent) of the enrolment whose sealed secret the code was checked
  // against (a newer enrolment in between makes it kConflict): the factor counts from now, the recovery codes
  // replace any earlier ones, the confirming session is raised to aal 2, and every other session of the user —
  // each made without the factor — ends (their ids are the result). kConflict without that unconfirmed factor.
  void confirm_totp(std::string user_id, std::string secret_sealed, std::int64_t step,
                    std::vector<std::string> recovery_digests, std::string session_id, std::int64_t now_ms,
                    std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done);
  // Removal after re-authentication (`proof` is spent first; empty when a password was checked instead): the factor
  // and its codes are deleted, every other session of the user is revoked (their ids are the result), and
  // `keep_session` drops to aal 1. kNotFound when there is no factor.
  void remove_totp(std::string user_id, FactorUse proof, std::string keep_session, std::int64_t now_ms,
                   std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done);

  void open_challenge(MfaChallenge challenge, std::vector<AuditEntry> audit, std::function<void(Status)> done);
  // A wrong second factor: counted on the challenge (which ends at kMaxChallengeFailures), audited.
  void fail_challenge(std::string digest, std::int64_t now_ms, std::vector<AuditEntry> audit,
                      std::function<void(Status)> done);
  // The second factor of a login: the challenge is consumed, `use` spent, and `session` (aal 2) opened as
  // IdentityStore::open_session does; all or nothing. kUnauthorized when the challenge or the use is spent.
  void complete_challenge(std::string digest, FactorUse use, NewSession session, std::int64_t now_ms,
                          std::vector<AuditEntry> audit, std::function<void(Result<Account>)> done);

  void purge(std::int64_t now_ms);  // expired challenges

  // Spends `use` for `user_id` inside the current transaction (kUnauthorized when already spent or unknown).
  static Status spend(Connection& conn, const std::string& user_id, const FactorUse& use, std::int64_t now_ms);

 private:
  IdentityStore& identity_;
  Reader reader_;
  Submit submit_;
};

// Deletes a user's MFA rows, in the transaction deleting the user (IdentityStore's delete_identity_rows).
Status delete_mfa_rows(Connection& conn, const std::string& user_id);

}  // namespace slipway::storage
