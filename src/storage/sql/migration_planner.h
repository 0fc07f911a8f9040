// Migration planner: compares the schema snapshot recorded by the last applied migration with the concept file
// and produces the exact SQL steps, each marked safe or destructive. Pure: no database access.
//
// A snapshot is the canonical JSON of the schema-relevant part of a concept (collections, fields with all their
// options, indexes). Its SHA-256 is the migration checksum; equal checksums mean "the database matches the file".
// Destructive: dropping a collection or field, a type change that does not widen (int→float and
// email/url/enum→text widen), retargeting a relation, and a new required field without a default.
// Validation-only option changes (required, min, max, pattern, enum values, hidden, immutable, sensitive,
// default) have no SQL on either engine: validation lives in slipway, and every insert writes all columns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/concept/model.h"
#include "core/result.h"
#include "storage/sql/dialect.h"

namespace slipway::sql {

struct MigrationStep {
  std::string description;       // "add field posts.views (int)"
  std::vector<std::string> sql;  // may be empty (validation-only change)
  bool destructive = false;
};

struct MigrationPlan {
  std::vector<MigrationStep> steps;
  std::string snapshot;  // the target snapshot JSON (what the history records)
  std::string checksum;  // sha256 hex of `snapshot`
  bool empty() const { return steps.empty(); }
  bool has_destructive() const;
  // Human-readable: one block per step, "-- [safe] ..." / "-- [DESTRUCTIVE] ..." then its SQL lines.
  std::string to_text() const;
};

std::string schema_snapshot(const model::Concept& c);
std::string snapshot_checksum(const std::string& snapshot);

// `previous`: the snapshot JSON of the last applied migration, or nullopt for an empty database.
// kInternal when `previous` does not parse (a corrupted history).
Result<MigrationPlan> plan_migration(const std::optional<std::string>& previous, const model::Concept& target,
                                     const Dialect& d);

}  // namespace slipway::sql
