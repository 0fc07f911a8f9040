// Storage: the only storage header the api layer includes. SQLite (storage/sqlite) implements it now and
// PostgreSQL will implement it later without any change above this line.
//
// Contract:
// - Reads (list, get) run on the caller's thread on a per-thread connection and return synchronously.
// - Writes (create, update, remove) are queued to the single writer, batched with concurrent writes into one
//   transaction (group commit) and completed by a callback from the writer thread only after the batch is
//   durable. A callback is called exactly once.
// - Access rules are part of every statement: list/get/update/remove AND the collection's rule for the action
//   into their SQL (a row the rule hides is "not found"); create checks the create rule against the new row
//   inside its transaction (kForbidden). The admin passes every rule; an absent rule admits only the admin.
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <algorithm>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/principal.h"
#include "core/concept/model.h"
#include "core/expr/expr.h"
#include "core/result.h"
#include "core/value.h"
#include "storage/audit.h"
#include "storage/change_feed.h"
#include "storage/identity.h"

namespace slipway::storage {

class Connection;  // storage/driver.h: what the `effects` of a command run on

struct Record {
  std::string id;
  std::string created;  // canonical RFC 3339 UTC with milliseconds
  std::string updated;
  std::int64_t version = 1;
  std::vector<Value> values;  // one per collection field, by field index (hidden ones too: the api strips them)
  // Expanded relations: (relation field name, the related record) — only those the caller may view.
  std::vector<std::pair<std::string, std::shared_ptr<Record>>> expand;
};

struct ListQuery {
  const model::Collection* collection = nullptr;
  std::shared_ptr<const expr::BoundExpr> filter;  // nullable
  std::vector<expr::SortKey> sort;                // empty: by id (creation order)
  int limit = 20;
  std::string cursor;                             // opaque, from a previous page's next_cursor; empty = first page
  bool count = false;                             // also compute the total of matching rows
  std::vector<std::string> expand;                // relation field names (validated by the caller)
};

struct ListPage {
  std::vector<Record> items;
  std::optional<std::string> next_cursor;
  std::optional<std::int64_t> total;
};

// A create: values are validated and complete (defaults applied), one per field (Null where absent).
struct CreateCommand {
  const model::Collection* collection = nullptr;
  std::vector<Value> values;
  std::string idempotency_key;          // empty: none
  std::string idempotency_fingerprint;  // hash of the request (method, path, body) for the key
  // Committed in the same transaction as the record, or not at all; an entry's empty record_id gets the new id.
  // A replay (same Idempotency-Key) writes no entry.
  std::vector<AuditEntry> audit;
  // A sign-up (users collection only): the account and first session, inserted with the record (their user id is
  // the new record's id), or not at all.
  std::optional<NewAccount> account;
  std::optional<NewSession> session;
  // More of the same transaction, after the record is inserted (given its id): e.g. a sign-up's verification token
  // and mail (storage/system/email_store.h). An error rolls the create back.
  std::function<Status(Connection& conn, const std::string& new_id)> effects;
};

struct CreateResult {
  Record record;
  bool replayed = false;  // true: an earlier request with the same Idempotency-Key created this record
};

// A patch: only the listed fields change. Validation of the merged record happens in `validate`, called inside
// the write transaction with the current row, so checks see the latest committed state.
// If-Match (RFC 9110 §13.1.1) as a write checks it, with the strong comparison: the record must be at one of
// `versions`. A header of `*` is no condition at all (a missing record is a 404 either way), so it is never made into
// an IfMatch; a header none of whose entity-tags could ever match (weak ones, malformed ones, another server's) leaves
// `versions` empty, and then every existing record fails it (412).
struct IfMatch {
  IfMatch() = default;
  IfMatch(std::int64_t version) : versions{version} {}  // NOLINT(google-explicit-constructor): one tag is the usual
  std::vector<std::int64_t> versions;
  bool matches(std::int64_t version) const {
    return std::find(versions.begin(), versions.end(), version) != versions.end();
  }
};

struct UpdateCommand {
  const model::Collection* collection = nullptr;
  std::string id;
  std::vector<std::pair<int, Value>> changes;  // (field index, new value)
  std::optional<IfMatch> if_match;             // from If-Match; nullopt: none (or `*`)
  std::function<Status(const Record& merged)> validate;  // may be empty
  std::vector<AuditEntry> audit;  // committed with the change, or not at all
  // More of the same transaction, run first (before the row is read): e.g. spending the token that allows this
  // change. An error rolls the update back.
  std::function<Status(Connection& conn)> effects;
};

struct RemoveCommand {
  const model::Collection* collection = nullptr;
  std::string id;
  std::optional<IfMatch> if_match;  // from If-Match; nullopt: none (or `*`)
  std::vector<AuditEntry> audit;  // committed with the deletion, or not at all
};

// What `slipway audit verify` reports.
struct AuditReport {
  std::int64_t entries = 0;              // entries verified (up to the first bad one)
  std::int64_t head_seq = 0;             // the last good entry's sequence number (0: none)
  std::string head_hash{kAuditGenesis};  // and its hash: keep it elsewhere to detect truncation later
  std::optional<std::int64_t> first_bad;  // the first entry that breaks the chain
  std::string why;                        // what is wrong with it
};

class MfaStore;
class EmailStore;
class OidcStore;

class Storage {
 public:
  virtual ~Storage() = default;

  virtual Result<ListPage> list(const ListQuery& query, const Principal& auth) = 0;
  virtual Result<Record> get(const model::Collection& collection, std::string_view id, const Principal& auth,
                             const std::vector<std::string>& expand) = 0;
  // list() without blocking the calling thread, as get_async() below: for a page one statement answers (no count,
  // no expand, no masking query).
  virtual bool list_async(const ListQuery& query, const Principal& auth, std::function<void(Result<ListPage>)>& done) {
    (void)query, (void)auth, (void)done;
    return false;
  }
  // get() without blocking the calling thread, where the engine can (PostgreSQL's pipelined reads, for a GET that
  // one statement answers): `done` is called once, on a storage thread, and true is returned. False, `done` left
  // untouched: call get() instead, where blocking is harmless.
  virtual bool get_async(const model::Collection& collection, std::string_view id, const Principal& auth,
                         const std::vector<std::string>& expand, std::function<void(Result<Record>)>& done) {
    (void)collection, (void)id, (void)auth, (void)expand, (void)done;
    return false;
  }

  virtual void create(CreateCommand command, Principal auth, std::function<void(Result<CreateResult>)> done) = 0;
  virtual void update(UpdateCommand command, Principal auth, std::function<void(Result<Record>)> done) = 0;
  virtual void remove(RemoveCommand command, Principal auth, std::function<void(Status)> done) = 0;

  // Appends entries that describe no record change (a failed login, a denied request) through the writer, in
  // commit order with every other entry. `done` (may be empty) is called once they are durable or failed.
  virtual void append_audit(std::vector<AuditEntry> entries, std::function<void(Status)> done) = 0;
  // Reads the whole chain; read-only, works beside a running server.
  virtual Result<AuditReport> verify_audit() = 0;

  // --- identity (storage/identity.h); only with the built-in users collection (`auth:` in the file) ---
  virtual Result<std::optional<Account>> find_account_by_email(std::string_view email) = 0;
  virtual Result<std::optional<Account>> find_account(std::string_view user_id) = 0;
  // A login: the new session, and the re-made password hash when the stored one used weaker parameters. The account
  // is read again inside the transaction: the result is it as it is now (sign with these roles); kUnauthorized when
  // the user was disabled or deleted meanwhile (then nothing is written but the audit entries).
  virtual void open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                            std::function<void(Result<Account>)> done) = 0;
  // The live session a refresh token names, with its user's roles (nullopt: no such live session). The token
  // itself is checked by refresh_session.
  virtual Result<std::optional<RefreshPeek>> peek_refresh_token(std::string_view session_id) = 0;
  virtual void refresh_session(RefreshCommand command, std::function<void(Result<RefreshOutcome>)> done) = 0;
  // The ids of the sessions it revoked; a named session that is not the user's live session is kNotFound.
  virtual void revoke_sessions(RevokeCommand command, std::vector<AuditEntry> audit,
                               std::function<void(Result<std::vector<std::string>>)> done) = 0;
  virtual Result<std::vector<SessionInfo>> list_sessions(std::string_view user_id) = 0;
  // Sets the new hash and revokes every other session of the user (their ids are the result).
  virtual void change_password(std::string user_id, std::string new_hash, std::string keep_session,
                               std::vector<AuditEntry> audit,
                               std::function<void(Result<std::vector<std::string>>)> done) = 0;
  // Roles and the disabled flag of a user; the account as it is afterwards. kNotFound for no such user.
  virtual void update_account(AccountUpdate update, std::vector<AuditEntry> audit,
                              std::function<void(Result<Account>)> done) = 0;
  // API keys: created (with its audit entry), listed (every key, newest first), revoked (kNotFound if absent or
  // already revoked), and their last use written in batches (not once per request).
  virtual void create_api_key(ApiKey key, std::vector<AuditEntry> audit, std::function<void(Status)> done) = 0;
  virtual Result<std::vector<ApiKey>> list_api_keys() = 0;
  virtual void revoke_api_key(std::string id, std::int64_t now_ms, std::vector<AuditEntry> audit,
                              std::function<void(Status)> done) = 0;
  virtual void touch_api_keys(std::vector<std::pair<std::string, std::int64_t>> last_used,
                              std::vector<AuditEntry> audit) = 0;
  // Housekeeping (every 30 s): forgets sealed refresh successors whose reuse window has passed and user revocations
  // older than any token they could refuse. Not awaited.
  virtual void purge_identity(std::int64_t successor_before_ms, std::int64_t revocation_before_ms) = 0;
  // Login throttling (auth/login_throttle.h): written through the writer without waiting; read once at start-up.
  virtual void save_throttles(std::vector<ThrottleRow> rows) = 0;  // upsert; a row with failures 0 is deleted
  virtual Result<std::vector<ThrottleRow>> load_throttles() = 0;
  // Sessions revoked at or after `since_ms` (start-up fills the in-memory revocation list from it).
  virtual Result<std::vector<std::string>> sessions_revoked_since(std::int64_t since_ms) = 0;
  // Users whose tokens were made stale (roles changed, disabled, deleted) at or after `since_ms`, with the time.
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> users_revoked_since(std::int64_t since_ms) = 0;

  // MFA data (storage/system/mfa_store.h): TOTP factors, recovery codes, login challenges. nullptr without the
  // built-in users collection.
  virtual MfaStore* mfa() = 0;
  // E-mail tokens and the mail queue (storage/system/email_store.h); nullptr without the users collection.
  virtual EmailStore* email() = 0;
  // OpenID Connect sign-ins in flight and linked identities (storage/system/oidc_store.h); nullptr without it too.
  virtual OidcStore* oidc() = 0;

  // Whether what was read may be cached in this process and trusted until the change feed says otherwise: true
  // when this process is the only writer (SQLite); false when others write too (PostgreSQL), because another
  // instance's write is answered before this one could hear of it (docs/decisions/0010).
  virtual bool caches_allowed() const = 0;
  // Every committed change, published after its commit and before the write is answered (change_feed.h). Caches
  // subscribe while wiring.
  virtual ChangeFeed& changes() = 0;

  // Database reachable and the writer healthy (for /readyz).
  virtual Status ping() = 0;
  // Stops accepting writes, commits what is queued, closes connections. Idempotent.
  virtual void close() = 0;
};

}  // namespace slipway::storage
