// Migration planner: compares the schema snapshot recorded by the last applied migration with the concept file
// and produces the exact SQL steps, each marked safe or destructive. Pure: no database access.
//
// A snapshot is the canonical JSON of the schema-relevant part of a concept (collections, fields with all their
// options, indexes). Its SHA-256 is the migration checksum; equal checksums mean "the database matches the file".
// Destructive: dropping a collection or field, a type change that does not widen (int→float and
// email/url/enum→text widen), retargeting a relation.
// Every path that adds a column (ADD COLUMN or a SQLite table rebuild) gives existing rows the declared default.
//
// Changes whose harm depends on the data carry a DataCheck: a new required field (or `required` turned on) without
// a default, a new `unique`, a narrowed min/max/pattern/enum. The planner is pure, so it marks them conservatively
// (destructive) and SchemaManager::assess settles each against the live rows: safe when no row is affected, else
// destructive (or blocked, for duplicates under a new unique index) with the number of affected records in the
// description. `required` turned on with a default backfills the rows that lack a value (an UPDATE in the plan).
// Other option changes (hidden, immutable, sensitive, a default on an existing field, widened limits) are
// validation only: no SQL, since validation lives in slipway and every insert writes all columns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/concept/model.h"
#include "core/result.h"
#include "storage/sql/dialect.h"

namespace slipway::sql {

// What SchemaManager::assess counts in the live data for a step (see above).
struct DataCheck {
  enum class Kind : std::uint8_t {
    kMissing,     // rows without a value for `field` (NULL, or '' for text); `new_field`: every existing row
    kDuplicates,  // values of `field` held by more than one row
    kViolations,  // values of `field` that break the target field's min/max/pattern/enum
  };
  Kind kind = Kind::kMissing;
  std::string collection;
  std::string field;
  bool new_field = false;
  bool backfill = false;  // kMissing: the step's SQL gives those records the default (always safe)
};

struct MigrationStep {
  MigrationStep() = default;
  MigrationStep(std::string description_, std::vector<std::string> sql_, bool destructive_)
      : description(std::move(description_)), sql(std::move(sql_)), destructive(destructive_) {}

  std::string description;       // "add field posts.views (int)"
  std::vector<std::string> sql;  // may be empty (validation-only change)
  bool destructive = false;
  // Cannot be applied at all, not even with --allow-destructive (the SQL would fail on the data): the reason is in
  // the description.
  bool blocked = false;
  std::optional<DataCheck> check;
  std::int64_t affected = -1;  // records the check found (set by assess); -1: not assessed
};

struct MigrationPlan {
  std::vector<MigrationStep> steps;
  std::string snapshot;  // the target snapshot JSON (what the history records)
  // The snapshot the plan was made from (nullopt: an empty database). Applying re-reads the database's snapshot
  // under the migration lock and refuses the plan if it is neither this nor the target: someone else migrated in
  // between, and these steps were computed for a schema that is gone.
  std::optional<std::string> base;
  std::string checksum;  // sha256 hex of `snapshot`
  bool empty() const { return steps.empty(); }
  bool has_destructive() const;
  bool has_blocked() const;
  // Human-readable: one block per step, "-- [safe] ..." / "-- [DESTRUCTIVE] ..." / "-- [BLOCKED] ..." then its SQL
  // lines.
  std::string to_text() const;
};

std::string schema_snapshot(const model::Concept& c);
std::string snapshot_checksum(const std::string& snapshot);

// `previous`: the snapshot JSON of the last applied migration, or nullopt for an empty database.
// kInternal when `previous` does not parse (a corrupted history).
Result<MigrationPlan> plan_migration(const std::optional<std::string>& previous, const model::Concept& target,
                                     const Dialect& d);

// Settles one step from the number of records its DataCheck found (what SchemaManager::assess calls per step):
// sets `affected`, `destructive` / `blocked`, and says in the description what happens to those records.
void settle_step(MigrationStep& step, std::int64_t affected);

// The SQL that counts what a DataCheck of kind kMissing or kDuplicates looks for (one row, one integer column).
// kViolations is checked value by value (patterns are RE2, not SQL): see violation_scan_sql.
std::string data_check_count_sql(const DataCheck& check, const model::Field& target, const Dialect& d);
// "SELECT "field" FROM "collection" WHERE "field" IS NOT NULL": the values a kViolations check tests.
std::string violation_scan_sql(const DataCheck& check, const Dialect& d);

}  // namespace slipway::sql
