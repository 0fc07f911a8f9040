// SchemaManager: migration history and application, per engine. Used by `slipway migrate` and by `serve` at
// start-up (before any request), never on the request path.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/sql/migration_planner.h"

namespace slipway::storage {

struct MigrationRecord {
  std::int64_t version = 0;
  std::string checksum;
  std::string applied_at;  // RFC 3339
  std::string applied_by;  // "user@host" or "serve"
  std::string plan;        // the plan text that was applied
};

// One of slipway's own schema versions (storage/system/system_migrations.h): the tables slipway keeps for itself.
struct SystemMigrationRecord {
  int version = 0;
  std::string name;        // what it adds
  std::string checksum;    // SHA-256 of its SQL
  std::string applied_at;  // RFC 3339; empty: pending (applied when `serve` or `migrate apply` next opens it)
  std::string applied_by;
};

class SchemaManager {
 public:
  virtual ~SchemaManager() = default;
  // The snapshot of the last applied migration; nullopt for a database with no history.
  virtual Result<std::optional<std::string>> current_snapshot() = 0;
  virtual Result<std::vector<MigrationRecord>> history() = 0;
  // slipway's own tables: applied versions, then pending ones. Opening for writing applies what is pending.
  virtual Result<std::vector<SystemMigrationRecord>> system_history() = 0;
  // Settles every step that carries a DataCheck against the live rows (sql::settle_step): how many records it
  // affects, and so whether it is safe, destructive or blocked. Read-only; call it before showing or applying a
  // plan.
  virtual Status assess(sql::MigrationPlan& plan, const model::Concept& target) = 0;
  // Runs every step of `plan` in one transaction and records it. Refuses blocked steps always, and destructive
  // steps unless allowed.
  virtual Status apply(const sql::MigrationPlan& plan, const std::string& applied_by, bool allow_destructive) = 0;
};

}  // namespace slipway::storage
