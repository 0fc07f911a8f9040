// A SqliteStorage on a fresh file with the concept's schema applied: what storage tests start from.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/concept/loader.h"
#include "storage/sql/dialect.h"
#include "storage/sql/migration_planner.h"
#include "storage/sqlite/sqlite_storage.h"

namespace slipway::testing {

// Loads `concept_text` into `concept_out` and opens `path` with its schema; ADD_FAILUREs and returns nullptr when
// anything fails (call it from SetUp and ASSERT_NE on the result).
inline std::unique_ptr<storage::RecordStore> open_migrated(std::string_view concept_text,
                                                                     const std::string& path, const Clock& clock,
                                                                     std::unique_ptr<model::Concept>& concept_out) {
  auto loaded = model::load_concept_string(concept_text, "test.yaml");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
  if (!loaded.ok()) return nullptr;
  concept_out = std::move(loaded.concept_file);
  storage::sqlite::SqliteOptions o;
  o.path = path;
  auto opened = storage::sqlite::open_storage(*concept_out, o, clock);
  if (!opened) {
    ADD_FAILURE() << opened.error().cause;
    return nullptr;
  }
  auto plan = sql::plan_migration(std::nullopt, *concept_out, *sql::make_sqlite_dialect());
  if (!plan || !(*opened)->apply(*plan, "test", false)) {
    ADD_FAILURE() << "the schema did not apply";
    return nullptr;
  }
  return std::move(*opened);
}

}  // namespace slipway::testing
