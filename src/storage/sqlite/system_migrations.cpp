#include "storage/sqlite/system_migrations.h"

#include "core/sha256.h"
#include "core/value.h"
#include "storage/sqlite/connection.h"

namespace slipway::storage::sqlite {
namespace {

// docs/formats.md#system-tables describes each table; never edit a released version (invariant 1).
constexpr SystemMigration kMigrations[] = {
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
};

constexpr std::string_view kHistoryTable =
    "CREATE TABLE IF NOT EXISTS _slipway_system_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL,"
    " applied_by TEXT NOT NULL)";

Result<bool> has_history(Connection& conn) {
  auto lease =
      conn.prepare_uncached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_slipway_system_migrations'");
  if (!lease) return std::move(lease).error();
  return (*lease)->step();
}

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
Status check_recorded(const std::vector<SystemMigrationRecord>& done) {
  const auto known = system_migrations();
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

std::span<const SystemMigration> system_migrations() { return kMigrations; }

namespace {
void append_pending(std::vector<SystemMigrationRecord>& out) {
  for (std::size_t i = out.size(); i < system_migrations().size(); ++i) {
    const SystemMigration& m = system_migrations()[i];
    out.push_back({m.version, std::string(m.name), sha256_hex(m.sql), "", ""});
  }
}
}  // namespace

Status apply_system_migrations(Connection& conn, std::string_view applied_by, std::string_view applied_at) {
  if (Status st = conn.exec(std::string(kHistoryTable)); !st) return st;
  auto done = recorded(conn);
  if (!done) return std::move(done).error();
  if (Status st = check_recorded(*done); !st) return st;
  for (std::size_t i = done->size(); i < system_migrations().size(); ++i) {
    const SystemMigration& m = system_migrations()[i];
    if (Status st = conn.exec("BEGIN IMMEDIATE"); !st) return st;
    auto fail = [&conn, &m](Problem p) -> Status {
      (void)conn.exec("ROLLBACK");
      p.detail = "System schema version " + std::to_string(m.version) + " (" + std::string(m.name) +
                 ") could not be applied.";
      return p;
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
  return {};
}

Result<std::vector<SystemMigrationRecord>> system_migration_status(Connection& conn) {
  auto done = recorded(conn);
  if (!done) return std::move(done).error();
  if (Status st = check_recorded(*done); !st) return std::move(st).error();
  std::vector<SystemMigrationRecord> out = std::move(*done);
  append_pending(out);
  return out;
}

std::vector<SystemMigrationRecord> system_migration_status_of_nothing() {
  std::vector<SystemMigrationRecord> out;
  append_pending(out);
  return out;
}

}  // namespace slipway::storage::sqlite
