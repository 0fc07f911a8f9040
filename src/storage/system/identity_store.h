// IdentityStore: accounts, sessions and refresh-token rotation (tables of system version 2), over the driver seam. Its reads run
// on the caller's read connection, its writes as ops of the group-commit writer, each with its audit entries in the
// same transaction. The record store owns one and forwards the identity part of Storage to it.
//
// Refresh rotation (docs/security.md#sessions-and-refresh-tokens). A refresh token is "<session id>.<random>"; the
// session row keeps the digests of its current and previous token and of the last 32 spent ones. Decided in one
// write transaction, on that one row:
//   presented digest
//     not one of the session's, or the session revoked/expired/idle/too old     ─► kInvalid
//     the current one                                     ─► kRotated: next_hash becomes current (one UPDATE)
//     the previous one, within the reuse window           ─► kRepeated: the sealed successor, unchanged
//     the previous one after the window, or a spent one   ─► kReused: session revoked, audited
// Thread safety: as the record store.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "storage/audit.h"
#include "storage/identity.h"
#include "storage/driver.h"

namespace slipway::storage {


// Row writes shared with the records path (a sign-up inserts its account and first session with the users record).
Status insert_account(Connection& conn, const std::string& user_id, const NewAccount& account, std::int64_t now_ms);
Status insert_session(Connection& conn, const NewSession& session, std::int64_t now_ms);
// Deletes every identity row of a user (account, sessions, refresh tokens), in the transaction deleting the record.
// Also records that the user's tokens issued before now are stale (kept across restarts).
Status delete_identity_rows(Connection& conn, const std::string& user_id, std::int64_t now_ms);
// Deletes every e-mail token of a user (storage/email.h): a pending reset or address change ends with the password
// or address it was asked for under.
Status delete_email_tokens(Connection& conn, const std::string& user_id);
// An account whose address was never proven, now claimed by whoever proved it (a reset link that reached it, or a
// provider that verified it): nothing set up before that proof survives — sessions end (their ids are the result),
// the password, second factor, recovery codes, MFA challenges, linked identities and e-mail tokens are deleted.
Result<std::vector<std::string>> forget_unproven(Connection& conn, const std::string& user_id, std::int64_t now_ms);
// Revokes the live sessions `cmd` names (announced to other instances) and forgets their refresh tokens; returns
// their ids. REQUIRES: inside a write transaction.
Result<std::vector<std::string>> revoke_sessions_in(Connection& conn, const RevokeCommand& cmd);

class IdentityStore {
 public:
  using Reader = std::function<Result<ReadLease>()>;
  using Submit = std::function<void(WriteOp)>;
  // `users_table` is the quoted name of the built-in users collection's table; `lock_session` the suffix that locks
  // the session row a refresh reads (sql::Dialect::lock_rows("s")), so concurrent writers decide one at a time.
  IdentityStore(std::string users_table, std::string lock_session, Reader reader, Submit submit);

  Result<std::optional<Account>> find_account_by_email(std::string_view email);
  Result<std::optional<Account>> find_account(std::string_view user_id);
  void open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                    std::int64_t now_ms, std::function<void(Result<Account>)> done,
                    std::function<Status(Connection&)> proof = nullptr);  // run first, in the same transaction
  Result<std::optional<RefreshPeek>> peek_refresh_token(std::string_view session_id);
  void refresh_session(RefreshCommand cmd, std::function<void(Result<RefreshOutcome>)> done);
  void revoke_sessions(RevokeCommand cmd, std::vector<AuditEntry> audit,
                       std::function<void(Result<std::vector<std::string>>)> done);
  Result<std::vector<SessionInfo>> list_sessions(std::string_view user_id, std::int64_t now_ms);
  void change_password(std::string user_id, std::string new_hash, std::string keep_session, std::int64_t now_ms,
                       std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done);
  Result<std::vector<std::string>> sessions_revoked_since(std::int64_t since_ms);
  Result<std::vector<std::pair<std::string, std::int64_t>>> users_revoked_since(std::int64_t since_ms);
  void update_account(AccountUpdate update, std::vector<AuditEntry> audit, std::function<void(Result<Account>)> done);
  void save_throttles(std::vector<ThrottleRow> rows);
  void purge(std::int64_t successor_before_ms, std::int64_t revocation_before_ms);

  // API keys need no users collection (services exist without sign-up), so they take the writer or a connection.
  static void create_api_key(const std::function<void(WriteOp)>& submit, ApiKey key, std::vector<AuditEntry> audit,
                             std::function<void(Status)> done);
  static Result<std::vector<ApiKey>> list_api_keys(Connection& conn);
  static void revoke_api_key(const std::function<void(WriteOp)>& submit, std::string id, std::int64_t now_ms,
                             std::vector<AuditEntry> audit, std::function<void(Status)> done);
  static void touch_api_keys(const std::function<void(WriteOp)>& submit, std::vector<std::pair<std::string, std::int64_t>> last_used,
                             std::vector<AuditEntry> audit);
  Result<std::vector<ThrottleRow>> load_throttles();

 private:
  std::string users_table_;     // quoted
  std::string lock_session_;
  std::string account_select_;  // SELECT ... FROM users JOIN _slipway_accounts
  Reader reader_;
  Submit submit_;
};

}  // namespace slipway::storage
