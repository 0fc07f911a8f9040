#include "storage/system/oidc_store.h"

#include <memory>

#include "core/clock.h"
#include "storage/system/audit_log.h"
#include "storage/system/identity_store.h"
#include "storage/system/run_statement.h"

namespace slipway::storage {

OidcStore::OidcStore(IdentityStore& identity, Reader reader, Submit submit)
    : identity_(identity), reader_(std::move(reader)), submit_(std::move(submit)) {}

void OidcStore::save_state(OidcState s, std::function<void(Status)> done) {
  auto apply = [s = std::move(s)](Connection& conn) -> Status {
    return run_statement(conn,
                         "INSERT INTO _slipway_oidc_states (digest, provider, nonce, verifier, binding, created_ms, "
                         "expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                         {Value(s.digest), Value(s.provider), Value(s.nonce), Value(s.verifier), Value(s.binding),
                          Value(s.created_ms), Value(s.expires_ms)});
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void OidcStore::take_state(std::string digest, std::int64_t now_ms,
                           std::function<void(Result<std::optional<OidcState>>)> done) {
  auto out = std::make_shared<std::optional<OidcState>>();
  auto apply = [digest = std::move(digest), now_ms, out](Connection& conn) -> Status {
    out->reset();
    auto lease = conn.prepare(
        "DELETE FROM _slipway_oidc_states WHERE digest = ?1 AND expires_ms > ?2 "
        "RETURNING provider, nonce, verifier, binding, created_ms, expires_ms");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(digest));
    (*lease)->bind(2, Value(now_ms));
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (*row) {
      OidcState s;
      s.digest = digest;
      s.provider = (*lease)->column_text(0);
      s.nonce = (*lease)->column_text(1);
      s.verifier = (*lease)->column_text(2);
      s.binding = (*lease)->column_text(3);
      s.created_ms = (*lease)->column_int(4);
      s.expires_ms = (*lease)->column_int(5);
      *out = std::move(s);
      for (;;) {  // finish the statement
        auto more = (*lease)->step();
        if (!more) return std::move(more).error();
        if (!*more) break;
      }
    }
    return {};
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

Result<std::optional<std::string>> OidcStore::find_identity(std::string_view provider, std::string_view subject) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT user_id FROM _slipway_identities WHERE provider = ?1 AND subject = ?2");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(provider)));
  (*lease)->bind(2, Value(std::string(subject)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(std::string((*lease)->column_text(0)));
}

Status OidcStore::insert_identity(Connection& conn, const LinkedIdentity& id, bool email_verified, std::int64_t now_ms) {
  if (Status st = run_statement(conn,
                                "INSERT INTO _slipway_identities (provider, subject, user_id, email, created_ms) "
                                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (provider, subject) DO UPDATE SET "
                                "user_id = excluded.user_id, email = excluded.email, created_ms = excluded.created_ms",
                                {Value(id.provider), Value(id.subject), Value(id.user_id), Value(id.email),
                                 Value(now_ms)});
      !st)
    return st;
  if (!email_verified) return {};
  return run_statement(conn,
                       "UPDATE _slipway_accounts SET email_verified_ms = ?2 WHERE user_id = ?1 AND "
                       "email_verified_ms IS NULL",
                       {Value(id.user_id), Value(now_ms)});
}

void OidcStore::link(LinkedIdentity identity, bool take_over, std::optional<NewSession> session, std::int64_t now_ms,
                     std::vector<AuditEntry> audit, std::function<void(Result<Linked>)> done) {
  auto ended = std::make_shared<std::vector<std::string>>();
  auto proof = [identity, take_over, now_ms, ended](Connection& conn) -> Status {
    ended->clear();
    if (take_over) {
      auto gone = forget_unproven(conn, identity.user_id, now_ms);
      if (!gone) return std::move(gone).error();
      *ended = std::move(*gone);
    }
    return insert_identity(conn, identity, /*email_verified=*/true, now_ms);
  };
  auto finish = [ended, done = std::move(done)](Result<Account> a) {
    if (!a) return done(std::move(a).error());
    done(Linked{std::move(*a), std::move(*ended)});
  };
  if (session) {
    return identity_.open_session(std::move(*session), std::nullopt, std::move(audit), now_ms, std::move(finish),
                                  std::move(proof));
  }
  auto account = std::make_shared<Account>();
  account->user_id = identity.user_id;
  auto apply = [proof = std::move(proof), audit = std::move(audit), now_ms](Connection& conn) -> Status {
    if (Status st = proof(conn); !st) return st;
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit_(WriteOp{std::move(apply), [account, finish = std::move(finish)](Status st) mutable {
                    if (!st) return finish(std::move(st).error());
                    finish(*account);
                  }});
}

void OidcStore::purge(std::int64_t now_ms) {
  auto apply = [now_ms](Connection& conn) -> Status {
    return run_statement(conn, "DELETE FROM _slipway_oidc_states WHERE expires_ms <= ?1", {Value(now_ms)});
  };
  submit_(WriteOp{std::move(apply), [](Status) {}});
}

Status delete_oidc_rows(Connection& conn, const std::string& user_id) {
  return run_statement(conn, "DELETE FROM _slipway_identities WHERE user_id = ?1", {Value(user_id)});
}

}  // namespace slipway::storage
