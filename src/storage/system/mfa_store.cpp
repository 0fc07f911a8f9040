#include "storage/system/mfa_store.h"

#include "core/clock.h"
#include "storage/system/audit_log.h"
#include "storage/system/identity_store.h"
#include "storage/system/run_statement.h"

namespace slipway::storage {
namespace {

constexpr auto run = run_statement;

Status set_session_aal(Connection& conn, const std::string& session_id, int aal) {
  return run(conn, "UPDATE _slipway_sessions SET aal = ?2 WHERE id = ?1 AND revoked_ms IS NULL",
             {Value(session_id), Value(std::int64_t{aal})});
}

Status audit_at(Connection& conn, const std::vector<AuditEntry>& audit, std::int64_t now_ms) {
  return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
}

}  // namespace

MfaStore::MfaStore(IdentityStore& identity, Reader reader, Submit submit)
    : identity_(identity), reader_(std::move(reader)), submit_(std::move(submit)) {}

Result<std::optional<TotpFactor>> MfaStore::find_totp(std::string_view user_id) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare(
      "SELECT t.secret, t.created_ms, t.confirmed_ms, t.last_step,"
      " (SELECT COUNT(*) FROM _slipway_recovery_codes AS r WHERE r.user_id = t.user_id AND r.used_ms IS NULL)"
      " FROM _slipway_totp AS t WHERE t.user_id = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(user_id)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<TotpFactor>();
  TotpFactor f;
  f.user_id = user_id;
  f.secret_sealed = (*lease)->column_text(0);
  f.created_ms = (*lease)->column_int(1);
  if (!(*lease)->column_is_null(2)) f.confirmed_ms = (*lease)->column_int(2);
  if (!(*lease)->column_is_null(3)) f.last_step = (*lease)->column_int(3);
  f.recovery_codes_left = static_cast<int>((*lease)->column_int(4));
  return std::optional<TotpFactor>(std::move(f));
}

Result<std::optional<MfaChallenge>> MfaStore::find_challenge(std::string_view digest, std::int64_t now_ms) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare(
      "SELECT user_id, created_ms, expires_ms, failures FROM _slipway_mfa_challenges"
      " WHERE digest = ?1 AND expires_ms > ?2 AND failures < ?3");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(digest)));
  (*lease)->bind(2, Value(now_ms));
  (*lease)->bind(3, Value(std::int64_t{kMaxChallengeFailures}));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<MfaChallenge>();
  MfaChallenge c;
  c.digest = digest;
  c.user_id = (*lease)->column_text(0);
  c.created_ms = (*lease)->column_int(1);
  c.expires_ms = (*lease)->column_int(2);
  c.failures = static_cast<int>((*lease)->column_int(3));
  return std::optional<MfaChallenge>(std::move(c));
}

void MfaStore::begin_totp(std::string user_id, std::string secret_sealed, std::int64_t now_ms,
                          std::vector<AuditEntry> audit, std::function<void(Status)> done) {
  auto apply = [user_id = std::move(user_id), secret_sealed = std::move(secret_sealed), now_ms,
                audit = std::move(audit)](Connection& conn) -> Status {
    // The upsert leaves a confirmed factor alone: then no row changes, and the answer is a conflict.
    if (Status st = run(conn,
                        "INSERT INTO _slipway_totp (user_id, secret, created_ms) VALUES (?1, ?2, ?3) "
                        "ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_ms = excluded.created_ms,"
                        " last_step = NULL WHERE _slipway_totp.confirmed_ms IS NULL",
                        {Value(user_id), Value(secret_sealed), Value(now_ms)});
        !st)
      return st;
    if (conn.changes() != 1)
      return Problem::make(ProblemCode::kConflict,
                           "A TOTP factor is already set up: remove it first (DELETE /api/v1/auth/mfa/totp).");
    return audit_at(conn, audit, now_ms);
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void MfaStore::confirm_totp(std::string user_id, std::string secret_sealed, std::int64_t step,
                            std::vector<std::string> recovery_digests, std::string session_id, std::int64_t now_ms,
                            std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done) {
  auto ended = std::make_shared<std::vector<std::string>>();
  auto apply = [user_id = std::move(user_id), secret = std::move(secret_sealed), step, digests = std::move(recovery_digests),
                session_id = std::move(session_id), now_ms, audit = std::move(audit), ended](Connection& conn) -> Status {
    if (Status st = run(conn,
                        "UPDATE _slipway_totp SET confirmed_ms = ?2, last_step = ?3 WHERE user_id = ?1 AND "
                        "confirmed_ms IS NULL AND secret = ?4",
                        {Value(user_id), Value(now_ms), Value(step), Value(secret)});
        !st)
      return st;
    if (conn.changes() != 1)
      return Problem::make(ProblemCode::kConflict,
                           "No TOTP enrolment waits for confirmation: begin one with POST /api/v1/auth/mfa/totp.");
    if (Status st = run(conn, "DELETE FROM _slipway_recovery_codes WHERE user_id = ?1", {Value(user_id)}); !st)
      return st;
    for (const std::string& d : digests)
      if (Status st = run(conn, "INSERT INTO _slipway_recovery_codes (user_id, digest) VALUES (?1, ?2)",
                          {Value(user_id), Value(d)});
          !st)
        return st;
    if (Status st = set_session_aal(conn, session_id, 2); !st) return st;
    auto others = revoke_sessions_in(conn, RevokeCommand{user_id, std::nullopt, session_id, "mfa_enrolled", now_ms});
    if (!others) return std::move(others).error();
    *ended = std::move(*others);
    return audit_at(conn, audit, now_ms);
  };
  submit_(WriteOp{std::move(apply), [ended, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*ended));
                  }});
}

void MfaStore::remove_totp(std::string user_id, FactorUse proof, std::string keep_session, std::int64_t now_ms,
                           std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done) {
  auto revoked = std::make_shared<std::vector<std::string>>();
  auto apply = [user_id = std::move(user_id), proof = std::move(proof), keep = std::move(keep_session), now_ms,
                audit = std::move(audit), revoked](Connection& conn) -> Status {
    if (Status st = spend(conn, user_id, proof, now_ms); !st) return st;
    if (Status st = run(conn, "DELETE FROM _slipway_totp WHERE user_id = ?1", {Value(user_id)}); !st) return st;
    if (conn.changes() != 1) return Problem::make(ProblemCode::kNotFound, "No TOTP factor is set up.");
    if (Status st = run(conn, "DELETE FROM _slipway_recovery_codes WHERE user_id = ?1", {Value(user_id)}); !st)
      return st;
    auto ids = revoke_sessions_in(conn, RevokeCommand{user_id, std::nullopt, keep, "mfa_removed", now_ms});
    if (!ids) return std::move(ids).error();
    *revoked = std::move(*ids);
    if (Status st = set_session_aal(conn, keep, 1); !st) return st;
    return audit_at(conn, audit, now_ms);
  };
  submit_(WriteOp{std::move(apply), [revoked, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*revoked));
                  }});
}

void MfaStore::open_challenge(MfaChallenge c, std::vector<AuditEntry> audit, std::function<void(Status)> done) {
  auto apply = [c = std::move(c), audit = std::move(audit)](Connection& conn) -> Status {
    if (Status st = run(conn,
                        "INSERT INTO _slipway_mfa_challenges (digest, user_id, created_ms, expires_ms) "
                        "VALUES (?1, ?2, ?3, ?4)",
                        {Value(c.digest), Value(c.user_id), Value(c.created_ms), Value(c.expires_ms)});
        !st)
      return st;
    return audit_at(conn, audit, c.created_ms);
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void MfaStore::fail_challenge(std::string digest, std::int64_t now_ms, std::vector<AuditEntry> audit,
                              std::function<void(Status)> done) {
  auto apply = [digest = std::move(digest), now_ms, audit = std::move(audit)](Connection& conn) -> Status {
    if (Status st = run(conn, "UPDATE _slipway_mfa_challenges SET failures = failures + 1 WHERE digest = ?1",
                        {Value(digest)});
        !st)
      return st;
    return audit_at(conn, audit, now_ms);
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void MfaStore::complete_challenge(std::string digest, FactorUse use, NewSession session, std::int64_t now_ms,
                                  std::vector<AuditEntry> audit, std::function<void(Result<Account>)> done) {
  const std::string user_id = session.user_id;
  auto proof = [digest = std::move(digest), use = std::move(use), user_id, now_ms](Connection& conn) -> Status {
    if (Status st = run(conn,
                        "DELETE FROM _slipway_mfa_challenges WHERE digest = ?1 AND user_id = ?2 AND expires_ms > ?3 "
                        "AND failures < ?4",
                        {Value(digest), Value(user_id), Value(now_ms), Value(std::int64_t{kMaxChallengeFailures})});
        !st)
      return st;
    if (conn.changes() != 1)
      return Problem::make(ProblemCode::kUnauthorized,
                           "The MFA token is not valid: expired, already used, or too many wrong codes.");
    return spend(conn, user_id, use, now_ms);
  };
  session.aal = 2;
  identity_.open_session(std::move(session), std::nullopt, std::move(audit), now_ms, std::move(done),
                         std::move(proof));
}

void MfaStore::purge(std::int64_t now_ms) {
  auto apply = [now_ms](Connection& conn) -> Status {
    return run(conn, "DELETE FROM _slipway_mfa_challenges WHERE expires_ms <= ?1", {Value(now_ms)});
  };
  submit_(WriteOp{std::move(apply), [](Status) {}});
}

Status MfaStore::spend(Connection& conn, const std::string& user_id, const FactorUse& use, std::int64_t now_ms) {
  if (use.totp_step) {
    if (Status st = run(conn,
                        "UPDATE _slipway_totp SET last_step = ?2 WHERE user_id = ?1 AND confirmed_ms IS NOT NULL AND "
                        "(last_step IS NULL OR last_step < ?2)",
                        {Value(user_id), Value(*use.totp_step)});
        !st)
      return st;
    if (conn.changes() != 1)
      return Problem::make(ProblemCode::kUnauthorized, "The code is wrong or was already used.", "TOTP step spent");
  }
  if (use.recovery_digest) {
    if (Status st = run(conn,
                        "UPDATE _slipway_recovery_codes SET used_ms = ?3 WHERE user_id = ?1 AND digest = ?2 AND "
                        "used_ms IS NULL",
                        {Value(user_id), Value(*use.recovery_digest), Value(now_ms)});
        !st)
      return st;
    if (conn.changes() != 1)
      return Problem::make(ProblemCode::kUnauthorized, "The recovery code is wrong or was already used.",
                           "recovery code spent");
  }
  return {};
}

Status delete_mfa_rows(Connection& conn, const std::string& user_id) {
  for (const char* sql : {"DELETE FROM _slipway_totp WHERE user_id = ?1",
                          "DELETE FROM _slipway_recovery_codes WHERE user_id = ?1",
                          "DELETE FROM _slipway_mfa_challenges WHERE user_id = ?1"})
    if (Status st = run(conn, sql, {Value(user_id)}); !st) return st;
  return {};
}

}  // namespace slipway::storage
