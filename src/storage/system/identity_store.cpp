#include "storage/system/identity_store.h"

#include <algorithm>

#include "core/json_writer.h"
#include "storage/system/audit_log.h"
#include "storage/system/mfa_store.h"
#include "storage/system/oidc_store.h"
#include "storage/driver.h"

namespace slipway::storage {
namespace {

std::string roles_json(const std::vector<std::string>& roles) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (const auto& r : roles) w.string(r);
  w.end_array();
  return out;
}

// Roles are identifiers (the concept file says so), stored as a JSON array of strings: the quoted parts in order.
std::vector<std::string> parse_roles(std::string_view json) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = json.find('"', pos)) != std::string_view::npos) {
    const std::size_t end = json.find('"', pos + 1);
    if (end == std::string_view::npos) break;
    out.emplace_back(json.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return out;
}

Account read_account(Statement& st) {
  Account a;
  a.user_id = st.column_text(0);
  a.email = st.column_text(1);
  a.password_hash = st.column_text(2);
  a.roles = parse_roles(st.column_text(3));
  a.disabled = st.column_int(4) != 0;
  a.password_changed_ms = st.column_int(5);
  a.mfa = st.column_int(6) != 0;
  a.email_verified = !st.column_is_null(7);
  return a;
}

constexpr std::string_view kSessionColumns =
    "s.id, s.user_id, s.created_ms, s.last_used_ms, s.expires_ms, s.auth_time_ms, s.aal, s.user_agent, s.address, "
    "s.revoked_ms";

// Reads kSessionColumns starting at column `at`.
SessionInfo read_session(Statement& st, int at) {
  SessionInfo s;
  s.id = st.column_text(at);
  s.user_id = st.column_text(at + 1);
  s.created_ms = st.column_int(at + 2);
  s.last_used_ms = st.column_int(at + 3);
  s.expires_ms = st.column_int(at + 4);
  s.auth_time_ms = st.column_int(at + 5);
  s.aal = static_cast<int>(st.column_int(at + 6));
  s.user_agent = st.column_text(at + 7);
  s.address = st.column_text(at + 8);
  if (!st.column_is_null(at + 9)) s.revoked_ms = st.column_int(at + 9);
  return s;
}

Result<std::optional<Account>> one_account(Connection& conn, const std::string& sql, std::string_view key) {
  auto lease = conn.prepare(sql);
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(key)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<Account>();
  return std::optional<Account>(read_account(**lease));
}

}  // namespace

Result<std::vector<std::string>> revoke_sessions_in(Connection& conn, const RevokeCommand& cmd) {
  std::vector<std::string> ids;
  {
    auto sel = conn.prepare(
        "SELECT id FROM _slipway_sessions WHERE user_id = ?1 AND revoked_ms IS NULL AND (CAST(?2 AS TEXT) IS NULL OR id = ?2) "
        "AND id != ?3");
    if (!sel) return std::move(sel).error();
    (*sel)->bind(1, Value(cmd.user_id));
    (*sel)->bind(2, cmd.session_id ? Value(*cmd.session_id) : Value(Null{}));
    (*sel)->bind(3, Value(cmd.keep));
    for (;;) {
      auto row = (*sel)->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      ids.emplace_back((*sel)->column_text(0));
    }
  }
  auto upd = conn.prepare("UPDATE _slipway_sessions SET revoked_ms = ?2, revoked_reason = ?3, successor = NULL WHERE id = ?1");
  if (!upd) return std::move(upd).error();
  for (const auto& id : ids) {
    (*upd)->bind(1, Value(id));
    (*upd)->bind(2, Value(cmd.now_ms));
    (*upd)->bind(3, Value(cmd.reason));
    if (auto st = (*upd)->step(); !st) return std::move(st).error();
    (*upd)->release();
    Change told;  // other instances refuse its tokens too
    told.kind = Change::Kind::kSessionRevoked;
    told.id = id;
    told.at_ms = cmd.now_ms;
    if (Status st = conn.announce(told); !st) return std::move(st).error();
  }
  return ids;
}

namespace {

// Tokens of the user issued before now are stale (roles changed, disabled, deleted): kept so a restart still refuses
// them (auth/revocations.h).
Status revoke_user_tokens_in(Connection& conn, const std::string& user_id, std::int64_t now_ms) {
  auto lease = conn.prepare(
      "INSERT INTO _slipway_user_revocations (user_id, revoked_ms) VALUES (?1, ?2) "
      "ON CONFLICT (user_id) DO UPDATE SET revoked_ms = excluded.revoked_ms");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  (*lease)->bind(2, Value(now_ms));
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  Change told;  // other instances refuse the user's older tokens too
  told.kind = Change::Kind::kUserRevoked;
  told.id = user_id;
  told.at_ms = now_ms;
  return conn.announce(told);
}

Status announce_api_keys(Connection& conn) {
  Change told;  // other instances reload their keys
  told.kind = Change::Kind::kApiKeys;
  return conn.announce(told);
}

}  // namespace

Status delete_email_tokens(Connection& conn, const std::string& user_id) {
  auto lease = conn.prepare("DELETE FROM _slipway_email_tokens WHERE user_id = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  return {};
}

Result<std::vector<std::string>> forget_unproven(Connection& conn, const std::string& user_id, std::int64_t now_ms) {
  auto ended = revoke_sessions_in(conn, RevokeCommand{user_id, std::nullopt, "", "address_claimed", now_ms});
  if (!ended) return std::move(ended).error();
  auto lease = conn.prepare("UPDATE _slipway_accounts SET password_hash = NULL, password_changed_ms = ?2 WHERE user_id = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  (*lease)->bind(2, Value(now_ms));
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  lease->reset();
  if (Status st = delete_mfa_rows(conn, user_id); !st) return std::move(st).error();
  if (Status st = delete_oidc_rows(conn, user_id); !st) return std::move(st).error();
  if (Status st = delete_email_tokens(conn, user_id); !st) return std::move(st).error();
  return ended;
}

Status insert_account(Connection& conn, const std::string& user_id, const NewAccount& account, std::int64_t now_ms) {
  auto lease = conn.prepare(
      "INSERT INTO _slipway_accounts (user_id, password_hash, roles, disabled, password_changed_ms) "
      "VALUES (?1, ?2, ?3, 0, ?4)");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(user_id));
  (*lease)->bind(2, Value(account.password_hash));
  (*lease)->bind(3, Value(roles_json(account.roles)));
  (*lease)->bind(4, Value(now_ms));
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  return {};
}

Status insert_session(Connection& conn, const NewSession& s, std::int64_t now_ms) {
  auto lease = conn.prepare(
      "INSERT INTO _slipway_sessions (id, user_id, created_ms, last_used_ms, expires_ms, auth_time_ms, aal, "
      "generation, rotated_ms, current_hash, successor, user_agent, address) "
      "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, 0, ?3, ?7, NULL, ?8, ?9)");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(s.id));
  (*lease)->bind(2, Value(s.user_id));
  (*lease)->bind(3, Value(now_ms));
  (*lease)->bind(4, Value(s.expires_ms));
  (*lease)->bind(5, Value(s.auth_time_ms));
  (*lease)->bind(6, Value(std::int64_t{s.aal}));
  (*lease)->bind(7, Value(s.refresh_hash));
  (*lease)->bind(8, Value(s.user_agent));
  (*lease)->bind(9, Value(s.address));
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  return {};
}

Status delete_identity_rows(Connection& conn, const std::string& user_id, std::int64_t now_ms) {
  if (Status st = revoke_user_tokens_in(conn, user_id, now_ms); !st) return st;
  for (const char* sql :
       {"DELETE FROM _slipway_sessions WHERE user_id = ?1", "DELETE FROM _slipway_accounts WHERE user_id = ?1"}) {
    auto lease = conn.prepare(sql);
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(user_id));
    if (auto st = (*lease)->step(); !st) return std::move(st).error();
  }
  if (Status st = delete_mfa_rows(conn, user_id); !st) return st;
  if (Status st = delete_oidc_rows(conn, user_id); !st) return st;
  return delete_email_tokens(conn, user_id);
}

IdentityStore::IdentityStore(std::string users_table, std::string lock_session, Reader reader, Submit submit)
    : users_table_(users_table),
      lock_session_(std::move(lock_session)),
      account_select_("SELECT u.id, u.email, a.password_hash, a.roles, a.disabled, a.password_changed_ms,"
                      " EXISTS (SELECT 1 FROM _slipway_totp AS t WHERE t.user_id = u.id AND t.confirmed_ms IS NOT NULL),"
                      " a.email_verified_ms"
                      " FROM " + users_table + " AS u JOIN _slipway_accounts AS a ON a.user_id = u.id WHERE "),
      reader_(std::move(reader)),
      submit_(std::move(submit)) {}

Result<std::optional<Account>> IdentityStore::find_account_by_email(std::string_view email) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  return one_account(**conn, account_select_ + "u.email = ?1", email);
}

Result<std::optional<Account>> IdentityStore::find_account(std::string_view user_id) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  return one_account(**conn, account_select_ + "u.id = ?1", user_id);
}

void IdentityStore::open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                                 std::int64_t now_ms, std::function<void(Result<Account>)> done,
                                 std::function<Status(Connection&)> proof) {
  auto out = std::make_shared<Account>();
  auto apply = [this, session = std::move(session), rehash = std::move(rehash), audit = std::move(audit), now_ms,
                out, proof = std::move(proof)](Connection& conn) -> Status {
    if (proof) {
      if (Status st = proof(conn); !st) return st;
    }
    // The password was checked against a read made before hashing; the user may have been disabled, deleted or
    // given other roles since. Decide on the account as it is in this transaction.
    auto account = one_account(conn, account_select_ + "u.id = ?1", session.user_id);
    if (!account) return std::move(account).error();
    if (!*account || (*account)->disabled)
      return Problem::make(ProblemCode::kUnauthorized, "The e-mail address or the password is wrong.",
                           "account disabled or deleted during the login");
    *out = std::move(**account);
    if (out->mfa && session.aal < 2)  // a factor was confirmed after the password was checked: no session on one
      return Problem::make(ProblemCode::kUnauthorized, "The e-mail address or the password is wrong.",
                           "a second factor was set up during the login");
    if (rehash) {  // the stored hash was made with weaker parameters than today's: replaced at this login
      auto lease = conn.prepare("UPDATE _slipway_accounts SET password_hash = ?2 WHERE user_id = ?1");
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(session.user_id));
      (*lease)->bind(2, Value(*rehash));
      if (auto st = (*lease)->step(); !st) return std::move(st).error();
    }
    if (Status st = insert_session(conn, session, now_ms); !st) return st;
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

Result<std::optional<RefreshPeek>> IdentityStore::peek_refresh_token(std::string_view session_id) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare(
      "SELECT s.id, s.user_id, s.aal, a.roles, a.disabled FROM _slipway_sessions AS s"
      " JOIN _slipway_accounts AS a ON a.user_id = s.user_id"
      " JOIN " + users_table_ + " AS u ON u.id = s.user_id WHERE s.id = ?1 AND s.revoked_ms IS NULL");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(session_id)));
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<RefreshPeek>();
  RefreshPeek p;
  p.session_id = (*lease)->column_text(0);
  p.user_id = (*lease)->column_text(1);
  p.aal = static_cast<int>((*lease)->column_int(2));
  p.roles = parse_roles((*lease)->column_text(3));
  p.disabled = (*lease)->column_int(4) != 0;
  return std::optional<RefreshPeek>(std::move(p));
}

namespace {
constexpr std::size_t kSpentKept = 32;  // rotated-away digests kept per session for reuse detection

// `spent` (space-separated digests, oldest first) with `digest` appended, the oldest dropped beyond kSpentKept.
std::string with_spent(std::string_view spent, std::string_view digest) {
  std::string out(spent);
  if (!out.empty()) out.push_back(' ');
  out.append(digest);
  std::size_t count = static_cast<std::size_t>(std::count(out.begin(), out.end(), ' ')) + 1;
  while (count > kSpentKept) {
    out.erase(0, out.find(' ') + 1);
    --count;
  }
  return out;
}

bool contains_digest(std::string_view spent, std::string_view digest) {
  std::size_t pos = 0;
  while (pos < spent.size()) {
    std::size_t end = spent.find(' ', pos);
    if (end == std::string_view::npos) end = spent.size();
    if (spent.substr(pos, end - pos) == digest) return true;
    pos = end + 1;
  }
  return false;
}
}  // namespace

void IdentityStore::refresh_session(RefreshCommand cmd, std::function<void(Result<RefreshOutcome>)> done) {
  auto out = std::make_shared<RefreshOutcome>();
  const std::string select = "SELECT s.generation, s.rotated_ms, s.successor, s.current_hash, s.previous_hash, "
                             "s.spent_hashes, " + std::string(kSessionColumns) +
                             " FROM _slipway_sessions AS s WHERE s.id = ?1" + lock_session_;
  auto apply = [this, cmd = std::move(cmd), out, select](Connection& conn) -> Status {
    std::int64_t generation = 0, rotated_ms = 0;
    std::string successor, current, previous, spent;
    {
      auto lease = conn.prepare(select);
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(cmd.session_id));
      auto row = (*lease)->step();
      if (!row) return std::move(row).error();
      if (!*row) return {};  // kInvalid: no such session (never, or deleted with its user)
      generation = (*lease)->column_int(0);
      rotated_ms = (*lease)->column_int(1);
      successor = (*lease)->column_text(2);
      current = (*lease)->column_text(3);
      previous = (*lease)->column_text(4);
      spent = (*lease)->column_text(5);
      out->session = read_session(**lease, 6);
    }
    const SessionInfo& s = out->session;
    // Disabling or deleting a user ends its sessions in the same transaction, so a live session is a live user.
    if (s.revoked_ms) return {};
    const bool is_current = !current.empty() && cmd.presented_hash == current;
    const bool is_previous = !previous.empty() && cmd.presented_hash == previous;
    const bool is_spent = is_previous || contains_digest(spent, cmd.presented_hash);
    if (!is_current && !is_spent) return {};  // kInvalid: not a token this session ever gave (nothing changes)
    // The current token was issued at the last rotation (or the session's start): refresh_ttl counts from there.
    const bool token_too_old = is_current && cmd.refresh_ttl_ms > 0 && cmd.now_ms - rotated_ms >= cmd.refresh_ttl_ms;
    if (cmd.now_ms >= s.expires_ms || cmd.now_ms - s.last_used_ms >= cmd.idle_timeout_ms || token_too_old) {
      auto revoked = revoke_sessions_in(conn, RevokeCommand{s.user_id, s.id, "", "expired", cmd.now_ms});
      return revoked ? Status{} : Status(std::move(revoked).error());
    }
    if (is_current) {
      // One row, one UPDATE: the digests live on the session (no per-token row, no random-keyed index insert).
      auto upd = conn.prepare(
          "UPDATE _slipway_sessions SET generation = ?2, rotated_ms = ?3, last_used_ms = ?3, successor = ?4, "
          "address = ?5, current_hash = ?6, previous_hash = ?7, spent_hashes = ?8 WHERE id = ?1");
      if (!upd) return std::move(upd).error();
      (*upd)->bind(1, Value(s.id));
      (*upd)->bind(2, Value(generation + 1));
      (*upd)->bind(3, Value(cmd.now_ms));
      (*upd)->bind(4, Value(cmd.next_sealed));
      (*upd)->bind(5, Value(cmd.address));
      (*upd)->bind(6, Value(cmd.next_hash));
      (*upd)->bind(7, Value(current));
      (*upd)->bind(8, Value(previous.empty() ? spent : with_spent(spent, previous)));
      if (auto st = (*upd)->step(); !st) return std::move(st).error();
      out->session.last_used_ms = cmd.now_ms;
      out->kind = RefreshOutcome::Kind::kRotated;
      return {};
    }
    if (is_previous && cmd.now_ms - rotated_ms <= cmd.reuse_window_ms && !successor.empty()) {
      out->sealed = std::move(successor);
      out->kind = RefreshOutcome::Kind::kRepeated;
      return {};
    }
    // A token that rotated away is back after the window: one of its holders is not the user. End the session.
    auto revoked = revoke_sessions_in(conn, RevokeCommand{s.user_id, s.id, "", "refresh_token_reuse", cmd.now_ms});
    if (!revoked) return std::move(revoked).error();
    AuditEntry e;
    e.action = "auth.refresh.reuse";
    e.actor_kind = "user";
    e.actor_id = s.user_id;
    e.reason = "refresh_token_reuse";
    e.address = cmd.address;
    e.request_id = cmd.request_id;
    e.detail = "{\"session\":\"" + s.id + "\",\"generation\":" + std::to_string(generation) + "}";
    if (Status st = append_audit_rows(conn, std::span<const AuditEntry>(&e, 1), format_rfc3339_ms(cmd.now_ms)); !st)
      return st;
    out->kind = RefreshOutcome::Kind::kReused;
    return {};
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

void IdentityStore::revoke_sessions(RevokeCommand cmd, std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  auto ids = std::make_shared<std::vector<std::string>>();
  auto apply = [cmd = std::move(cmd), audit = std::move(audit), ids](Connection& conn) -> Status {
    auto revoked = revoke_sessions_in(conn, cmd);
    if (!revoked) return std::move(revoked).error();
    if (cmd.session_id && revoked->empty())
      return Problem::make(ProblemCode::kNotFound, "The session does not exist or has ended.");
    *ids = std::move(*revoked);
    return append_audit_rows(conn, audit, format_rfc3339_ms(cmd.now_ms));
  };
  submit_(WriteOp{std::move(apply), [ids, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*ids));
                  }});
}

Result<std::vector<SessionInfo>> IdentityStore::list_sessions(std::string_view user_id, std::int64_t now_ms) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT " + std::string(kSessionColumns) +
                                " FROM _slipway_sessions AS s WHERE s.user_id = ?1 AND s.revoked_ms IS NULL"
                                " AND s.expires_ms > ?2 ORDER BY s.created_ms DESC, s.id DESC");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(user_id)));
  (*lease)->bind(2, Value(now_ms));
  std::vector<SessionInfo> out;
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_session(**lease, 0));
  }
  return out;
}

void IdentityStore::change_password(std::string user_id, std::string new_hash, std::string keep_session,
                                    std::int64_t now_ms, std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  auto ids = std::make_shared<std::vector<std::string>>();
  auto apply = [user_id = std::move(user_id), new_hash = std::move(new_hash), keep = std::move(keep_session), now_ms,
                audit = std::move(audit), ids](Connection& conn) -> Status {
    auto lease = conn.prepare(
        "UPDATE _slipway_accounts SET password_hash = ?2, password_changed_ms = ?3 WHERE user_id = ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(user_id));
    (*lease)->bind(2, Value(new_hash));
    (*lease)->bind(3, Value(now_ms));
    if (auto st = (*lease)->step(); !st) return std::move(st).error();
    if (conn.changes() == 0) return Problem::make(ProblemCode::kNotFound, "The account does not exist.");
    auto revoked = revoke_sessions_in(conn, RevokeCommand{user_id, std::nullopt, keep, "password_changed", now_ms});
    if (!revoked) return std::move(revoked).error();
    *ids = std::move(*revoked);
    // A pending address change or reset was asked for with the old password: it ends with it.
    if (Status st = delete_email_tokens(conn, user_id); !st) return st;
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit_(WriteOp{std::move(apply), [ids, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*ids));
                  }});
}

Result<std::vector<std::pair<std::string, std::int64_t>>> IdentityStore::users_revoked_since(std::int64_t since_ms) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT user_id, revoked_ms FROM _slipway_user_revocations WHERE revoked_ms >= ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(since_ms));
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace_back(std::string((*lease)->column_text(0)), (*lease)->column_int(1));
  }
  return out;
}

Result<std::vector<std::string>> IdentityStore::sessions_revoked_since(std::int64_t since_ms) {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT id FROM _slipway_sessions WHERE revoked_ms >= ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(since_ms));
  std::vector<std::string> out;
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.emplace_back((*lease)->column_text(0));
  }
  return out;
}

void IdentityStore::update_account(AccountUpdate update, std::vector<AuditEntry> audit,
                                   std::function<void(Result<Account>)> done) {
  auto out = std::make_shared<Account>();
  auto apply = [this, update = std::move(update), audit = std::move(audit), out](Connection& conn) -> Status {
    auto before = one_account(conn, account_select_ + "u.id = ?1", update.user_id);
    if (!before) return std::move(before).error();
    if (!*before) return Problem::make(ProblemCode::kNotFound, "No such user.");
    auto lease = conn.prepare(
        "UPDATE _slipway_accounts SET roles = COALESCE(?2, roles), disabled = COALESCE(?3, disabled) WHERE user_id = ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(update.user_id));
    (*lease)->bind(2, update.roles ? Value(roles_json(*update.roles)) : Value(Null{}));
    (*lease)->bind(3, update.disabled ? Value(std::int64_t{*update.disabled ? 1 : 0}) : Value(Null{}));
    if (auto st = (*lease)->step(); !st) return std::move(st).error();
    if (update.disabled && *update.disabled) {
      auto revoked = revoke_sessions_in(conn, RevokeCommand{update.user_id, std::nullopt, "", "disabled", update.now_ms});
      if (!revoked) return std::move(revoked).error();
    }
    if (update.roles || (update.disabled && *update.disabled)) {
      if (Status st = revoke_user_tokens_in(conn, update.user_id, update.now_ms); !st) return st;
    }
    *out = std::move(**before);
    if (update.roles) out->roles = *update.roles;
    if (update.disabled) out->disabled = *update.disabled;
    return append_audit_rows(conn, audit, format_rfc3339_ms(update.now_ms));
  };
  submit_(WriteOp{std::move(apply), [out, done = std::move(done)](Status st) {
                    if (!st) return done(std::move(st).error());
                    done(std::move(*out));
                  }});
}

void IdentityStore::purge(std::int64_t successor_before_ms, std::int64_t revocation_before_ms) {
  auto apply = [successor_before_ms, revocation_before_ms](Connection& conn) -> Status {
    auto clear = conn.prepare(
        "UPDATE _slipway_sessions SET successor = NULL WHERE successor IS NOT NULL AND rotated_ms < ?1");
    if (!clear) return std::move(clear).error();
    (*clear)->bind(1, Value(successor_before_ms));
    if (auto st = (*clear)->step(); !st) return std::move(st).error();
    auto old = conn.prepare("DELETE FROM _slipway_user_revocations WHERE revoked_ms < ?1");
    if (!old) return std::move(old).error();
    (*old)->bind(1, Value(revocation_before_ms));
    if (auto st = (*old)->step(); !st) return std::move(st).error();
    return {};
  };
  submit_(WriteOp{std::move(apply), [](Status) {}});
}

void IdentityStore::save_throttles(std::vector<ThrottleRow> rows) {
  auto apply = [rows = std::move(rows)](Connection& conn) -> Status {
    auto upsert = conn.prepare(
        "INSERT INTO _slipway_throttles (key, failures, last_failure_ms, locked_until_ms) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms, "
        "locked_until_ms = excluded.locked_until_ms");
    if (!upsert) return std::move(upsert).error();
    auto del = conn.prepare("DELETE FROM _slipway_throttles WHERE key = ?1");
    if (!del) return std::move(del).error();
    for (const auto& r : rows) {
      Statement& st = r.failures > 0 ? **upsert : **del;
      st.bind(1, Value(r.key));
      if (r.failures > 0) {
        st.bind(2, Value(r.failures));
        st.bind(3, Value(r.last_failure_ms));
        st.bind(4, Value(r.locked_until_ms));
      }
      if (auto done = st.step(); !done) return std::move(done).error();
      st.release();
    }
    return {};
  };
  submit_(WriteOp{std::move(apply), [](Status) {}});  // best effort: the in-memory state already holds
}

void IdentityStore::create_api_key(const std::function<void(WriteOp)>& submit, ApiKey key, std::vector<AuditEntry> audit,
                                   std::function<void(Status)> done) {
  auto apply = [key = std::move(key), audit = std::move(audit)](Connection& conn) -> Status {
    auto lease = conn.prepare(
        "INSERT INTO _slipway_api_keys (id, prefix, secret_hash, name, roles, created_ms, created_by, expires_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(key.id));
    (*lease)->bind(2, Value(key.prefix));
    (*lease)->bind(3, Value(key.secret_hash));
    (*lease)->bind(4, Value(key.name));
    (*lease)->bind(5, Value(roles_json(key.roles)));
    (*lease)->bind(6, Value(key.created_ms));
    (*lease)->bind(7, Value(key.created_by));
    (*lease)->bind(8, key.expires_ms ? Value(*key.expires_ms) : Value(Null{}));
    if (auto st = (*lease)->step(); !st) return std::move(st).error();
    if (Status st = announce_api_keys(conn); !st) return st;
    return append_audit_rows(conn, audit, format_rfc3339_ms(key.created_ms));
  };
  submit(WriteOp{std::move(apply), std::move(done)});
}

Result<std::vector<ApiKey>> IdentityStore::list_api_keys(Connection& conn) {
  std::vector<ApiKey> out;
  {
    auto found = conn.has_table("_slipway_api_keys");
    if (!found) return std::move(found).error();
    if (!*found) return out;  // inspecting a database from before identity
  }
  auto lease = conn.prepare(
      "SELECT id, prefix, secret_hash, name, roles, created_ms, created_by, expires_ms, revoked_ms, last_used_ms "
      "FROM _slipway_api_keys ORDER BY id DESC");
  if (!lease) return std::move(lease).error();
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    Statement& st = **lease;
    ApiKey k;
    k.id = st.column_text(0);
    k.prefix = st.column_text(1);
    k.secret_hash = st.column_text(2);
    k.name = st.column_text(3);
    k.roles = parse_roles(st.column_text(4));
    k.created_ms = st.column_int(5);
    k.created_by = st.column_text(6);
    if (!st.column_is_null(7)) k.expires_ms = st.column_int(7);
    if (!st.column_is_null(8)) k.revoked_ms = st.column_int(8);
    if (!st.column_is_null(9)) k.last_used_ms = st.column_int(9);
    out.push_back(std::move(k));
  }
  return out;
}

void IdentityStore::revoke_api_key(const std::function<void(WriteOp)>& submit, std::string id, std::int64_t now_ms,
                                   std::vector<AuditEntry> audit, std::function<void(Status)> done) {
  auto apply = [id = std::move(id), now_ms, audit = std::move(audit)](Connection& conn) -> Status {
    auto lease = conn.prepare("UPDATE _slipway_api_keys SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(id));
    (*lease)->bind(2, Value(now_ms));
    if (auto st = (*lease)->step(); !st) return std::move(st).error();
    if (conn.changes() == 0) return Problem::make(ProblemCode::kNotFound, "No such API key, or it is already revoked.");
    if (Status st = announce_api_keys(conn); !st) return st;
    return append_audit_rows(conn, audit, format_rfc3339_ms(now_ms));
  };
  submit(WriteOp{std::move(apply), std::move(done)});
}

void IdentityStore::touch_api_keys(const std::function<void(WriteOp)>& submit,
                                   std::vector<std::pair<std::string, std::int64_t>> last_used,
                                   std::vector<AuditEntry> audit) {
  if (last_used.empty() && audit.empty()) return;
  auto apply = [last_used = std::move(last_used), audit = std::move(audit)](Connection& conn) -> Status {
    auto lease = conn.prepare(
        "UPDATE _slipway_api_keys SET last_used_ms = ?2 WHERE id = ?1 AND (last_used_ms IS NULL OR last_used_ms < ?2)");
    if (!lease) return std::move(lease).error();
    std::int64_t latest = 0;
    for (const auto& [id, ms] : last_used) {
      (*lease)->bind(1, Value(id));
      (*lease)->bind(2, Value(ms));
      if (auto st = (*lease)->step(); !st) return std::move(st).error();
      (*lease)->release();
      latest = std::max(latest, ms);
    }
    return append_audit_rows(conn, audit, format_rfc3339_ms(latest));
  };
  submit(WriteOp{std::move(apply), [](Status) {}});
}

Result<std::vector<ThrottleRow>> IdentityStore::load_throttles() {
  auto conn = reader_();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT key, failures, last_failure_ms, locked_until_ms FROM _slipway_throttles");
  if (!lease) return std::move(lease).error();
  std::vector<ThrottleRow> out;
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({std::string((*lease)->column_text(0)), (*lease)->column_int(1), (*lease)->column_int(2),
                   (*lease)->column_int(3)});
  }
  return out;
}

}  // namespace slipway::storage
