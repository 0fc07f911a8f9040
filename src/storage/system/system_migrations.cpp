#include "storage/system/system_migrations.h"

#include "core/sha256.h"
#include "core/value.h"

namespace slipway::storage {
namespace {

// docs/formats.md#system-tables describes each table; never edit a released version (invariant 1).
constexpr SystemMigration kSqlite[] = {
    {1, "base: migration history, idempotency keys, secrets",
     "CREATE TABLE IF NOT EXISTS _slipway_migrations ("
     " version INTEGER PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL,"
     " applied_by TEXT NOT NULL, plan TEXT NOT NULL, snapshot TEXT NOT NULL);"
     "CREATE TABLE IF NOT EXISTS _slipway_idempotency ("
     " scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, record_id TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID;"
     "CREATE TABLE IF NOT EXISTS _slipway_secrets (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;"},
    {2, "identity: accounts, sessions with their refresh-token digests, user revocations, API keys, throttles, audit chain",
     "CREATE TABLE _slipway_accounts ("
     " user_id TEXT PRIMARY KEY NOT NULL, password_hash TEXT, roles TEXT NOT NULL DEFAULT '[]',"
     " disabled INTEGER NOT NULL DEFAULT 0, password_changed_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
     "CREATE TABLE _slipway_sessions ("
     " id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"
     " last_used_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, auth_time_ms INTEGER NOT NULL,"
     " aal INTEGER NOT NULL DEFAULT 1, generation INTEGER NOT NULL DEFAULT 0, rotated_ms INTEGER NOT NULL,"
     " current_hash TEXT NOT NULL, previous_hash TEXT, spent_hashes TEXT NOT NULL DEFAULT '',"
     " successor TEXT, user_agent TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '',"
     " revoked_ms INTEGER, revoked_reason TEXT) WITHOUT ROWID;"
     "CREATE INDEX _slipway_sessions_by_user ON _slipway_sessions (user_id);"
     "CREATE TABLE _slipway_api_keys ("
     " id TEXT PRIMARY KEY NOT NULL, prefix TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL, name TEXT NOT NULL,"
     " roles TEXT NOT NULL DEFAULT '[]', created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,"
     " expires_ms INTEGER, revoked_ms INTEGER, last_used_ms INTEGER) WITHOUT ROWID;"
     "CREATE TABLE _slipway_user_revocations ("
     " user_id TEXT PRIMARY KEY NOT NULL, revoked_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE _slipway_throttles ("
     " key TEXT PRIMARY KEY NOT NULL, failures INTEGER NOT NULL, last_failure_ms INTEGER NOT NULL,"
     " locked_until_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
     "CREATE TABLE _slipway_audit ("
     " seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL DEFAULT '',"
     " action TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', collection TEXT NOT NULL DEFAULT '',"
     " record_id TEXT NOT NULL DEFAULT '', address TEXT NOT NULL DEFAULT '', request_id TEXT NOT NULL DEFAULT '',"
     " detail TEXT NOT NULL DEFAULT '{}', prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"},
    {3, "audit log view: entries shaped as records for GET /api/v1/admin/audit",
     "CREATE VIEW _slipway_audit_log AS SELECT printf('%020d', seq) AS id, at AS created, at AS updated,"
     " 1 AS version, seq, action, actor_kind, actor_id, reason, collection, record_id, address, request_id, detail,"
     " prev_hash, hash FROM _slipway_audit;"},
    {4, "mfa: TOTP factors, recovery codes, login challenges",
     "CREATE TABLE _slipway_totp ("
     " user_id TEXT PRIMARY KEY NOT NULL, secret TEXT NOT NULL, created_ms INTEGER NOT NULL, confirmed_ms INTEGER,"
     " last_step INTEGER) WITHOUT ROWID;"
     "CREATE TABLE _slipway_recovery_codes ("
     " user_id TEXT NOT NULL, digest TEXT NOT NULL, used_ms INTEGER, PRIMARY KEY (user_id, digest)) WITHOUT ROWID;"
     "CREATE TABLE _slipway_mfa_challenges ("
     " digest TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, created_ms INTEGER NOT NULL,"
     " expires_ms INTEGER NOT NULL, failures INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
     "CREATE INDEX _slipway_mfa_challenges_by_user ON _slipway_mfa_challenges (user_id);"},
    {5, "e-mail: verified addresses, single-use e-mail tokens, the durable mail queue",
     "ALTER TABLE _slipway_accounts ADD COLUMN email_verified_ms INTEGER;"
     "CREATE TABLE _slipway_email_tokens ("
     " digest TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, purpose TEXT NOT NULL, email TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX _slipway_email_tokens_by_user ON _slipway_email_tokens (user_id, purpose);"
     "CREATE TABLE _slipway_mail_queue ("
     " id TEXT PRIMARY KEY NOT NULL, recipient TEXT NOT NULL, kind TEXT NOT NULL, sealed TEXT NOT NULL,"
     " created_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL,"
     " failed_ms INTEGER, last_error TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
     "CREATE INDEX _slipway_mail_queue_due ON _slipway_mail_queue (next_attempt_ms);"},
    {6, "oidc: pending sign-ins (state, nonce, PKCE verifier) and identities linked to users",
     "CREATE TABLE _slipway_oidc_states ("
     " digest TEXT PRIMARY KEY NOT NULL, provider TEXT NOT NULL, nonce TEXT NOT NULL, verifier TEXT NOT NULL,"
     " binding TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE _slipway_identities ("
     " provider TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',"
     " created_ms INTEGER NOT NULL, PRIMARY KEY (provider, subject)) WITHOUT ROWID;"
     "CREATE INDEX _slipway_identities_by_user ON _slipway_identities (user_id);"},
};

// The same versions for PostgreSQL: INTEGER → bigint (flags stay 0/1, as the code binds them), no WITHOUT ROWID,
// the audit view's created/updated as timestamptz so the records machinery compares them like any datetime.
constexpr SystemMigration kPostgres[] = {
    {1, "base: migration history, idempotency keys, secrets",
     "CREATE TABLE IF NOT EXISTS _slipway_migrations ("
     " version bigint PRIMARY KEY, checksum text NOT NULL, applied_at text NOT NULL,"
     " applied_by text NOT NULL, plan text NOT NULL, snapshot text NOT NULL);"
     "CREATE TABLE IF NOT EXISTS _slipway_idempotency ("
     " scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, record_id text NOT NULL,"
     " created_ms bigint NOT NULL, PRIMARY KEY (scope, key));"
     "CREATE TABLE IF NOT EXISTS _slipway_secrets (name text PRIMARY KEY NOT NULL, value text NOT NULL);"},
    {2, "identity: accounts, sessions with their refresh-token digests, user revocations, API keys, throttles, audit chain",
     "CREATE TABLE _slipway_accounts ("
     " user_id text PRIMARY KEY NOT NULL, password_hash text, roles text NOT NULL DEFAULT '[]',"
     " disabled bigint NOT NULL DEFAULT 0, password_changed_ms bigint NOT NULL DEFAULT 0);"
     "CREATE TABLE _slipway_sessions ("
     " id text PRIMARY KEY NOT NULL, user_id text NOT NULL, created_ms bigint NOT NULL,"
     " last_used_ms bigint NOT NULL, expires_ms bigint NOT NULL, auth_time_ms bigint NOT NULL,"
     " aal bigint NOT NULL DEFAULT 1, generation bigint NOT NULL DEFAULT 0, rotated_ms bigint NOT NULL,"
     " current_hash text NOT NULL, previous_hash text, spent_hashes text NOT NULL DEFAULT '',"
     " successor text, user_agent text NOT NULL DEFAULT '', address text NOT NULL DEFAULT '',"
     " revoked_ms bigint, revoked_reason text);"
     "CREATE INDEX _slipway_sessions_by_user ON _slipway_sessions (user_id);"
     "CREATE TABLE _slipway_api_keys ("
     " id text PRIMARY KEY NOT NULL, prefix text NOT NULL UNIQUE, secret_hash text NOT NULL, name text NOT NULL,"
     " roles text NOT NULL DEFAULT '[]', created_ms bigint NOT NULL, created_by text NOT NULL,"
     " expires_ms bigint, revoked_ms bigint, last_used_ms bigint);"
     "CREATE TABLE _slipway_user_revocations ("
     " user_id text PRIMARY KEY NOT NULL, revoked_ms bigint NOT NULL);"
     "CREATE TABLE _slipway_throttles ("
     " key text PRIMARY KEY NOT NULL, failures bigint NOT NULL, last_failure_ms bigint NOT NULL,"
     " locked_until_ms bigint NOT NULL DEFAULT 0);"
     "CREATE TABLE _slipway_audit ("
     " seq bigint PRIMARY KEY, at text NOT NULL, actor_kind text NOT NULL, actor_id text NOT NULL DEFAULT '',"
     " action text NOT NULL, reason text NOT NULL DEFAULT '', collection text NOT NULL DEFAULT '',"
     " record_id text NOT NULL DEFAULT '', address text NOT NULL DEFAULT '', request_id text NOT NULL DEFAULT '',"
     " detail text NOT NULL DEFAULT '{}', prev_hash text NOT NULL, hash text NOT NULL);"},
    {3, "audit log view: entries shaped as records for GET /api/v1/admin/audit",
     "CREATE VIEW _slipway_audit_log AS SELECT lpad(seq::text, 20, '0') AS id, CAST(at AS timestamptz) AS created,"
     " CAST(at AS timestamptz) AS updated, CAST(1 AS bigint) AS version, seq, action, actor_kind, actor_id, reason,"
     " collection, record_id, address, request_id, detail, prev_hash, hash FROM _slipway_audit;"},
    {4, "mfa: TOTP factors, recovery codes, login challenges",
     "CREATE TABLE _slipway_totp ("
     " user_id text PRIMARY KEY NOT NULL, secret text NOT NULL, created_ms bigint NOT NULL, confirmed_ms bigint,"
     " last_step bigint);"
     "CREATE TABLE _slipway_recovery_codes ("
     " user_id text NOT NULL, digest text NOT NULL, used_ms bigint, PRIMARY KEY (user_id, digest));"
     "CREATE TABLE _slipway_mfa_challenges ("
     " digest text PRIMARY KEY NOT NULL, user_id text NOT NULL, created_ms bigint NOT NULL,"
     " expires_ms bigint NOT NULL, failures bigint NOT NULL DEFAULT 0);"
     "CREATE INDEX _slipway_mfa_challenges_by_user ON _slipway_mfa_challenges (user_id);"},
    {5, "e-mail: verified addresses, single-use e-mail tokens, the durable mail queue",
     "ALTER TABLE _slipway_accounts ADD COLUMN email_verified_ms bigint;"
     "CREATE TABLE _slipway_email_tokens ("
     " digest text PRIMARY KEY NOT NULL, user_id text NOT NULL, purpose text NOT NULL, email text NOT NULL,"
     " created_ms bigint NOT NULL, expires_ms bigint NOT NULL);"
     "CREATE INDEX _slipway_email_tokens_by_user ON _slipway_email_tokens (user_id, purpose);"
     "CREATE TABLE _slipway_mail_queue ("
     " id text PRIMARY KEY NOT NULL, recipient text NOT NULL, kind text NOT NULL, sealed text NOT NULL,"
     " created_ms bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0, next_attempt_ms bigint NOT NULL,"
     " failed_ms bigint, last_error text NOT NULL DEFAULT '');"
     "CREATE INDEX _slipway_mail_queue_due ON _slipway_mail_queue (next_attempt_ms);"},
    {6, "oidc: pending sign-ins (state, nonce, PKCE verifier) and identities linked to users",
     "CREATE TABLE _slipway_oidc_states ("
     " digest text PRIMARY KEY NOT NULL, provider text NOT NULL, nonce text NOT NULL, verifier text NOT NULL,"
     " binding text NOT NULL, created_ms bigint NOT NULL, expires_ms bigint NOT NULL);"
     "CREATE TABLE _slipway_identities ("
     " provider text NOT NULL, subject text NOT NULL, user_id text NOT NULL, email text NOT NULL DEFAULT '',"
     " created_ms bigint NOT NULL, PRIMARY KEY (provider, subject));"
     "CREATE INDEX _slipway_identities_by_user ON _slipway_identities (user_id);"},
};

constexpr std::string_view kHistoryTable =
    "CREATE TABLE IF NOT EXISTS _slipway_system_migrations ("
    " version bigint PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at text NOT NULL,"
    " applied_by text NOT NULL)";  // the same text for both engines: SQLite reads bigint as INTEGER

Result<bool> has_history(Connection& conn) { return conn.has_table("_slipway_system_migrations"); }

Result<std::vector<SystemMigrationRecord>> recorded(Connection& conn) {
  std::vector<SystemMigrationRecord> out;
  auto exists = has_history(conn);
  if (!exists) return std::move(exists).error();
  if (!*exists) return out;
  auto lease = conn.prepare_uncached(
      "SELECT version, name, checksum, applied_at, applied_by FROM _slipway_system_migrations ORDER BY version");
  if (!lease) return std::move(lease).error();
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({static_cast<int>((*lease)->column_int(0)), std::string((*lease)->column_text(1)),
                   std::string((*lease)->column_text(2)), std::string((*lease)->column_text(3)),
                   std::string((*lease)->column_text(4))});
  }
  return out;
}

// The cause (what start-up prints) says it all: it names versions only, nothing secret.
Problem disagreement(const std::string& detail) { return Problem::make(ProblemCode::kInternal, detail, detail); }

// Invariants 1 and 3: what is recorded must be a prefix of what this build knows, with the same definitions.
Status check_recorded(const std::vector<SystemMigrationRecord>& done, sql::DialectKind engine) {
  const auto known = system_migrations(engine);
  for (std::size_t i = 0; i < done.size(); ++i) {
    if (i >= known.size())
      return disagreement("The database was written by a newer slipway (system schema version " +
                          std::to_string(done.back().version) + "; this build knows up to " +
                          std::to_string(known.size()) + "). Run that version or newer.");
    if (done[i].version != known[i].version || done[i].checksum != sha256_hex(known[i].sql))
      return disagreement("System schema version " + std::to_string(done[i].version) +
                          " in the database differs from this build's definition; the database was changed by hand "
                          "or by an unreleased build.");
  }
  return {};
}

}  // namespace

std::span<const SystemMigration> system_migrations(sql::DialectKind engine) {
  if (engine == sql::DialectKind::kPostgres) return kPostgres;
  return kSqlite;
}

namespace {
void append_pending(std::vector<SystemMigrationRecord>& out, sql::DialectKind engine) {
  for (std::size_t i = out.size(); i < system_migrations(engine).size(); ++i) {
    const SystemMigration& m = system_migrations(engine)[i];
    out.push_back({m.version, std::string(m.name), sha256_hex(m.sql), "", ""});
  }
}
}  // namespace

Status apply_system_migrations(Connection& conn, sql::DialectKind engine, std::string_view applied_by,
                               std::string_view applied_at) {
  const auto known = system_migrations(engine);
  // PostgreSQL: no statement timeout while waiting for another instance's lock or changing the schema.
  const std::string_view begin =
      engine == sql::DialectKind::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN; SET LOCAL statement_timeout = 0";
  // One version per transaction (invariant 2), each decided under the cross-process lock after reading the
  // history again (invariant 5): another instance may have applied it meanwhile.
  for (;;) {
    if (Status st = conn.exec(begin); !st) return st;
    auto rollback = [&conn](Problem p) -> Status {
      (void)conn.exec("ROLLBACK");
      return p;
    };
    if (Status st = conn.lock_across_processes(LockKey::kSystemSchema); !st) return rollback(std::move(st).error());
    if (Status st = conn.exec(std::string(kHistoryTable)); !st) return rollback(std::move(st).error());
    auto done = recorded(conn);
    if (!done) return rollback(std::move(done).error());
    if (Status st = check_recorded(*done, engine); !st) return rollback(std::move(st).error());
    if (done->size() >= known.size()) return conn.exec("COMMIT");
    const SystemMigration& m = known[done->size()];
    auto fail = [&rollback, &m](Problem p) -> Status {
      p.detail = "System schema version " + std::to_string(m.version) + " (" + std::string(m.name) +
                 ") could not be applied.";
      return rollback(std::move(p));
    };
    if (Status st = conn.exec(std::string(m.sql)); !st) return fail(std::move(st).error());
    auto ins = conn.prepare_uncached(
        "INSERT INTO _slipway_system_migrations (version, name, checksum, applied_at, applied_by) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!ins) return fail(std::move(ins).error());
    (*ins)->bind(1, Value(std::int64_t{m.version}));
    (*ins)->bind(2, Value(std::string(m.name)));
    (*ins)->bind(3, Value(sha256_hex(m.sql)));
    (*ins)->bind(4, Value(std::string(applied_at)));
    (*ins)->bind(5, Value(std::string(applied_by)));
    if (auto st = (*ins)->step(); !st) return fail(std::move(st).error());
    ins->reset();
    if (Status st = conn.exec("COMMIT"); !st) return fail(std::move(st).error());
  }
}

Result<std::vector<SystemMigrationRecord>> system_migration_status(Connection& conn, sql::DialectKind engine) {
  auto done = recorded(conn);
  if (!done) return std::move(done).error();
  if (Status st = check_recorded(*done, engine); !st) return std::move(st).error();
  std::vector<SystemMigrationRecord> out = std::move(*done);
  append_pending(out, engine);
  return out;
}

std::vector<SystemMigrationRecord> system_migration_status_of_nothing(sql::DialectKind engine) {
  std::vector<SystemMigrationRecord> out;
  append_pending(out, engine);
  return out;
}

}  // namespace slipway::storage
