#include "storage/system/email_store.h"

#include <memory>

#include "core/clock.h"
#include "storage/system/audit_log.h"
#include "storage/system/identity_store.h"
#include "storage/system/run_statement.h"

namespace slipway::storage {
namespace {

Problem bad_token() {
  return Problem::make(ProblemCode::kUnauthorized, "The link is not valid: expired, already used, or replaced by a newer one.");
}

// Spends the live token `digest` of `purpose`: its (user id, address), or nullopt when there is none.
Result<std::optional<std::pair<std::string, std::string>>> spend(Connection& conn, const std::string& digest,
                                                                 std::string_view purpose, std::int64_t now_ms) {
  auto lease = conn.prepare(
      "DELETE FROM _slipway_email_tokens WHERE digest = ?1 AND purpose = ?2 AND expires_ms > ?3 "
      "RETURNING user_id, email");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(digest));
  (*lease)->bind(2, Value(std::string(purpose)));
  (*lease)->bind(3, Value(now_ms));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::pair<std::string, std::string>>();
  std::pair<std::string, std::string> out{std::string((*lease)->column_text(0)), std::string((*lease)->column_text(1))};
  for (;;) {  // finish the statement (PostgreSQL reads the command's end)
    auto more = (*lease)->step();
    if (!more) return std::move(more).error();
    if (!*more) break;
  }
  return std::optional<std::pair<std::string, std::string>>(std::move(out));
}

Status mark_verified(Connection& conn, const std::string& user_id, std::int64_t now_ms) {
  return run_statement(conn,
                       "UPDATE _slipway_accounts SET email_verified_ms = ?2 WHERE user_id = ?1 AND "
                       "email_verified_ms IS NULL",
                       {Value(user_id), Value(now_ms)});
}

Result<bool> is_verified(Connection& conn, const std::string& user_id) {
  auto lease = conn.prepare("SELECT email_verified_ms FROM _slipway_accounts WHERE user_id = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return *row && !(*lease)->column_is_null(0);
}

// The user's address now, or nullopt when the user is gone.
Result<std::optional<std::string>> address_of(Connection& conn, const std::string& users_table,
                                              const std::string& user_id) {
  auto lease = conn.prepare("SELECT email FROM " + users_table + " WHERE id = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(std::string((*lease)->column_text(0)));
}

}  // namespace

EmailStore::EmailStore(std::string users_table, Reader reader, Submit submit)
    : users_table_(std::move(users_table)), reader_(std::move(reader)), submit_(std::move(submit)) {}

Status EmailStore::insert_token(Connection& conn, const EmailToken& t) {
  if (Status st = run_statement(conn, "DELETE FROM _slipway_email_tokens WHERE user_id = ?1 AND purpose = ?2",
                                {Value(t.user_id), Value(t.purpose)});
      !st)
    return st;
  return run_statement(conn,
                       "INSERT INTO _slipway_email_tokens (digest, user_id, purpose, email, created_ms, expires_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       {Value(t.digest), Value(t.user_id), Value(t.purpose), Value(t.email), Value(t.created_ms),
                        Value(t.expires_ms)});
}

Status EmailStore::enqueue(Connection& conn, const QueuedMail& m) {
  return run_statement(conn,
                       "INSERT INTO _slipway_mail_queue (id, recipient, kind, sealed, created_ms, next_attempt_ms) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                       {Value(m.id), Value(m.recipient), Value(m.kind), Value(m.sealed), Value(m.created_ms)});
}

Status EmailStore::spend_change_token(Connection& conn, const std::string& digest, const std::string& user_id,
                                      const std::string& new_email, std::int64_t now_ms) {
  auto spent = spend(conn, digest, "change", now_ms);
  if (!spent) return std::move(spent).error();
  if (!*spent || (*spent)->first != user_id || (*spent)->second != new_email) return bad_token();
  // Links mailed to the old address (a reset) lead nowhere from now on.
  if (Status st = delete_email_tokens(conn, user_id); !st) return st;
  return run_statement(conn, "UPDATE _slipway_accounts SET email_verified_ms = ?2 WHERE user_id = ?1",
                       {Value(user_id), Value(now_ms)});
}

Result<std::optional<EmailToken>> EmailStore::find_token(std::string_view digest, std::string_view purpose,
                                                         std::int64_t now_ms) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare(
      "SELECT user_id, email, created_ms, expires_ms FROM _slipway_email_tokens WHERE digest = ?1 AND purpose = ?2 "
      "AND expires_ms > ?3");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(digest)));
  (*lease)->bind(2, Value(std::string(purpose)));
  (*lease)->bind(3, Value(now_ms));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<EmailToken>();
  EmailToken t;
  t.digest = digest;
  t.purpose = purpose;
  t.user_id = (*lease)->column_text(0);
  t.email = (*lease)->column_text(1);
  t.created_ms = (*lease)->column_int(2);
  t.expires_ms = (*lease)->column_int(3);
  return std::optional<EmailToken>(std::move(t));
}

Result<MailQueueStats> EmailStore::stats() {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare(
      "SELECT COUNT(*) FILTER (WHERE failed_ms IS NULL), COUNT(*) FILTER (WHERE failed_ms IS NOT NULL),"
      " MIN(created_ms) FILTER (WHERE failed_ms IS NULL) FROM _slipway_mail_queue");
  if (!lease) return std::move(lease).error();
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  MailQueueStats s;
  if (*row) {
    s.pending = (*lease)->column_int(0);
    s.dead = (*lease)->column_int(1);
    if (!(*lease)->column_is_null(2)) s.oldest_pending_ms = (*lease)->column_int(2);
  }
  return s;
}

void EmailStore::issue(std::optional<EmailToken> token, std::vector<QueuedMail> mail, std::int64_t min_interval_ms,
                       std::vector<AuditEntry> audit, std::function<void(Result<bool>)> done) {
  auto issued = std::make_shared<bool>(false);
  auto apply = [token = std::move(token), mail = std::move(mail), min_interval_ms, audit = std::move(audit),
                issued](Connection& conn) -> Status {
    *issued = false;
    if (token && min_interval_ms > 0) {
      auto lease = conn.prepare(
          "SELECT 1 FROM _slipway_email_tokens WHERE user_id = ?1 AND purpose = ?2 AND created_ms > ?3");
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(token->user_id));
      (*lease)->bind(2, Value(token->purpose));
      (*lease)->bind(3, Value(token->created_ms - min_interval_ms));
      auto row = (*lease)->step();
      if (!row) return std::move(row).error();
      if (*row) return {};  // one was sent moments ago: nothing now
    }
    // The request checked the account before queueing this write, but on PostgreSQL another writer may have
    // committed the verification since; verifying spends the token the check above looks for, so it would pass.
    // Asked after that check: a verification committed between the two is seen here, one before it there.
    if (token && token->purpose == "verify") {
      auto verified = is_verified(conn, token->user_id);
      if (!verified) return std::move(verified).error();
      if (*verified) return {};  // nothing to verify any more: no link, no mail
    }
    if (token) {
      if (Status st = insert_token(conn, *token); !st) return st;
    }
    for (const QueuedMail& m : mail)
      if (Status st = enqueue(conn, m); !st) return st;
    *issued = true;
    const std::int64_t now = token ? token->created_ms : (mail.empty() ? 0 : mail.front().created_ms);
    return append_audit_rows(conn, audit, format_rfc3339_ms(now));
  };
  submit_(WriteOp{std::move(apply), [issued, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(*issued);
                  }});
}

void EmailStore::verify_email(std::string digest, std::int64_t now_ms, std::vector<AuditEntry> audit,
                              std::function<void(Result<std::string>)> done) {
  auto user = std::make_shared<std::string>();
  auto apply = [this, digest = std::move(digest), now_ms, audit = std::move(audit), user](Connection& conn) mutable -> Status {
    auto spent = spend(conn, digest, "verify", now_ms);
    if (!spent) return std::move(spent).error();
    if (!*spent) return bad_token();
    auto address = address_of(conn, users_table_, (*spent)->first);
    if (!address) return std::move(address).error();
    if (!*address || **address != (*spent)->second) return bad_token();  // the address changed since the mail
    if (Status st = mark_verified(conn, (*spent)->first, now_ms); !st) return st;
    *user = (*spent)->first;
    for (AuditEntry& e : audit) e.actor_id = *user;
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit_(WriteOp{std::move(apply), [user, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(*user);
                  }});
}

void EmailStore::reset_password(std::string digest, std::string new_hash, std::int64_t now_ms,
                                std::vector<AuditEntry> audit, std::function<void(Result<ResetOutcome>)> done) {
  auto out = std::make_shared<ResetOutcome>();
  auto apply = [this, digest = std::move(digest), new_hash = std::move(new_hash), now_ms, audit = std::move(audit),
                out](Connection& conn) mutable -> Status {
    auto spent = spend(conn, digest, "reset", now_ms);
    if (!spent) return std::move(spent).error();
    if (!*spent) return bad_token();
    const std::string uid = (*spent)->first;
    auto address = address_of(conn, users_table_, uid);
    if (!address) return std::move(address).error();
    if (!*address) return bad_token();  // the user is gone
    const bool reached = **address == (*spent)->second;  // the link went to the address the account has now
    auto proven = is_verified(conn, uid);
    if (!proven) return std::move(proven).error();
    // A reset ends every session and every pending link; on an account whose address nobody had proven before,
    // it also ends whatever was set up without that proof (a factor, linked identities: pre-registration).
    auto revoked = reached && !*proven
                       ? forget_unproven(conn, uid, now_ms)
                       : revoke_sessions_in(conn, RevokeCommand{uid, std::nullopt, "", "password_reset", now_ms});
    if (!revoked) return std::move(revoked).error();
    if (Status st = delete_email_tokens(conn, uid); !st) return st;
    if (Status st = run_statement(conn,
                                  "UPDATE _slipway_accounts SET password_hash = ?2, password_changed_ms = ?3 "
                                  "WHERE user_id = ?1",
                                  {Value(uid), Value(new_hash), Value(now_ms)});
        !st)
      return st;
    if (conn.changes() != 1) return bad_token();
    if (reached) {
      if (Status st = mark_verified(conn, uid, now_ms); !st) return st;
    }
    out->user_id = uid;
    out->revoked = std::move(*revoked);
    for (AuditEntry& e : audit) {
      e.actor_kind = "user";
      e.actor_id = uid;
    }
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

void EmailStore::claim(std::int64_t now_ms, std::int64_t lease_ms, int limit,
                       std::function<void(Result<std::vector<QueuedMail>>)> done) {
  auto out = std::make_shared<std::vector<QueuedMail>>();
  auto apply = [now_ms, lease_ms, limit, out](Connection& conn) -> Status {
    out->clear();
    std::vector<QueuedMail> due;
    {
      auto sel = conn.prepare(
          "SELECT id, recipient, kind, sealed, created_ms, attempts FROM _slipway_mail_queue"
          " WHERE failed_ms IS NULL AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms LIMIT ?2");
      if (!sel) return std::move(sel).error();
      (*sel)->bind(1, Value(now_ms));
      (*sel)->bind(2, Value(std::int64_t{limit}));
      for (;;) {
        auto row = (*sel)->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        QueuedMail m;
        m.id = (*sel)->column_text(0);
        m.recipient = (*sel)->column_text(1);
        m.kind = (*sel)->column_text(2);
        m.sealed = (*sel)->column_text(3);
        m.created_ms = (*sel)->column_int(4);
        m.attempts = static_cast<int>((*sel)->column_int(5));
        due.push_back(std::move(m));
      }
    }
    for (QueuedMail& m : due) {
      // Conditional: another instance may have claimed it since the SELECT (it then waited for our row lock).
      if (Status st = run_statement(conn,
                                    "UPDATE _slipway_mail_queue SET next_attempt_ms = ?2, attempts = attempts + 1 "
                                    "WHERE id = ?1 AND failed_ms IS NULL AND next_attempt_ms <= ?3",
                                    {Value(m.id), Value(now_ms + lease_ms), Value(now_ms)});
          !st)
        return st;
      if (conn.changes() != 1) continue;
      m.attempts += 1;
      out->push_back(std::move(m));
    }
    return {};
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

void EmailStore::sent(std::string id, std::function<void(Status)> done) {
  auto apply = [id = std::move(id)](Connection& conn) -> Status {
    return run_statement(conn, "DELETE FROM _slipway_mail_queue WHERE id = ?1", {Value(id)});
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void EmailStore::failed(std::string id, std::string error, std::optional<std::int64_t> retry_at_ms,
                        std::int64_t now_ms, std::function<void(Status)> done) {
  auto apply = [id = std::move(id), error = std::move(error), retry_at_ms, now_ms](Connection& conn) -> Status {
    if (retry_at_ms)
      return run_statement(conn,
                           "UPDATE _slipway_mail_queue SET next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1",
                           {Value(id), Value(*retry_at_ms), Value(error)});
    return run_statement(conn, "UPDATE _slipway_mail_queue SET failed_ms = ?2, last_error = ?3 WHERE id = ?1",
                         {Value(id), Value(now_ms), Value(error)});
  };
  submit_(WriteOp{std::move(apply), std::move(done)});
}

void EmailStore::purge(std::int64_t now_ms, std::int64_t dead_before_ms) {
  auto apply = [now_ms, dead_before_ms](Connection& conn) -> Status {
    if (Status st = run_statement(conn, "DELETE FROM _slipway_email_tokens WHERE expires_ms <= ?1", {Value(now_ms)});
        !st)
      return st;
    return run_statement(conn, "DELETE FROM _slipway_mail_queue WHERE failed_ms IS NOT NULL AND failed_ms < ?1",
                         {Value(dead_before_ms)});
  };
  submit_(WriteOp{std::move(apply), [](Status) {}});
}

}  // namespace slipway::storage
