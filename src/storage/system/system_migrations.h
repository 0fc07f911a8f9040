// System migrations: the tables slipway itself keeps (migration history, idempotency keys, secrets, identity,
// audit), versioned and applied in order like the concept's own migrations, and recorded in
// `_slipway_system_migrations` (version, name, checksum of the SQL, when, by whom).
//
// Invariants:
//  1. A definition never changes once released: a new table or column is a new version. The recorded checksum is
//     compared at every start and a mismatch stops start-up (the code and the database disagree about the schema).
//  2. Each version applies in its own transaction together with its history row: all of it or none of it.
//  3. A database recorded at a version newer than this build knows is refused (never downgraded in place).
//  4. Version 1 adopts the tables every earlier release created with IF NOT EXISTS, so an old data directory is
//     upgraded in place (tests/fixtures/data-before-identity).
//  5. Each engine has its own definitions (the same tables in its dialect) and its own checksums. Every version is
//     applied under the cross-process lock (Connection::lock_across_processes), after reading the history again, so
//     N instances starting at once on one PostgreSQL database apply each version once.
// Thread safety: functions run on the writer's connection before the writer starts, or read-only anywhere.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "storage/driver.h"
#include "storage/schema_manager.h"
#include "storage/sql/dialect.h"

namespace slipway::storage {


struct SystemMigration {
  int version = 0;
  std::string_view name;  // what it adds, for `migrate status`
  std::string_view sql;   // the engine's statements
};

// Every version this build knows for an engine, in order.
std::span<const SystemMigration> system_migrations(sql::DialectKind engine);

// Applies what is pending (invariants 1-3, 5). REQUIRES: a connection that may write, no transaction open.
Status apply_system_migrations(Connection& conn, sql::DialectKind engine, std::string_view applied_by,
                               std::string_view applied_at);

// Applied versions, then pending ones (applied_at empty), for `migrate status`. Works on a read-only connection
// and on a database that has no system history yet (all pending).
Result<std::vector<SystemMigrationRecord>> system_migration_status(Connection& conn, sql::DialectKind engine);
// The same for a database that does not exist yet: every version pending.
std::vector<SystemMigrationRecord> system_migration_status_of_nothing(sql::DialectKind engine);

}  // namespace slipway::storage
