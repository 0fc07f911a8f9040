// The storage engines a storage test runs on: SQLite always; PostgreSQL when SLIPWAY_TEST_PG_URL names a cluster
// (postgres://user@host:port, as make test sets it), each test on a fresh database of its own, dropped after it.
// Use with INSTANTIATE_TEST_SUITE_P(Engines, X, testing::engine_params(), testing::engine_name).
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/concept/loader.h"
#include "storage/postgres/pg_storage.h"
#include "storage/sql/migration_planner.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace slipway::testing {

inline std::vector<std::string> engine_params() { return {"sqlite", "postgres"}; }
inline std::string engine_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

inline std::string pg_base_url() {
  const char* url = std::getenv("SLIPWAY_TEST_PG_URL");
  return url ? url : "";
}

// Runs one statement on the cluster's maintenance database; false (and a test failure) when it fails.
inline bool pg_admin(const std::string& sql) {
  PGconn* c = PQconnectdb((pg_base_url() + "/postgres").c_str());
  bool ok = PQstatus(c) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) ADD_FAILURE() << sql << ": " << PQerrorMessage(c);
    PQclear(r);
  } else {
    ADD_FAILURE() << "cannot reach " << pg_base_url() << ": " << PQerrorMessage(c);
  }
  PQfinish(c);
  return ok;
}

// Where one test's database lives, whichever the engine; drops a PostgreSQL one when the test ends.
class EngineDatabase {
 public:
  explicit EngineDatabase(std::string engine) : engine_(std::move(engine)) {
    if (engine_ != "postgres") return;
    static std::atomic<int> n{0};
    name_ = "u_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
    created_ = pg_admin("CREATE DATABASE " + name_);
  }
  ~EngineDatabase() {
    if (created_) pg_admin("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  EngineDatabase(const EngineDatabase&) = delete;
  EngineDatabase& operator=(const EngineDatabase&) = delete;

  // GTEST_SKIP() from the caller when false: PostgreSQL asked for but no cluster named.
  bool available() const { return engine_ != "postgres" || !pg_base_url().empty(); }

  // Opens the database with `concept_text`'s schema applied; ADD_FAILUREs and returns nullptr when anything fails.
  std::unique_ptr<storage::RecordStore> open(std::string_view concept_text, const Clock& clock,
                                             std::unique_ptr<model::Concept>& concept_out) {
    auto loaded = model::load_concept_string(concept_text, "test.yaml");
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    if (!loaded.ok()) return nullptr;
    concept_out = std::move(loaded.concept_file);
    Result<std::unique_ptr<storage::RecordStore>> opened = Problem::make(ProblemCode::kInternal, "", "no engine");
    if (engine_ == "postgres") {
      if (!created_) return nullptr;
      storage::postgres::PgOptions o;
      o.url = pg_base_url() + "/" + name_;
      opened = storage::postgres::open_storage(*concept_out, o, clock);
    } else {
      storage::sqlite::SqliteOptions o;
      o.path = dir_.file("db.sqlite");
      opened = storage::sqlite::open_storage(*concept_out, o, clock);
    }
    if (!opened) {
      ADD_FAILURE() << opened.error().cause;
      return nullptr;
    }
    auto plan = sql::plan_migration(std::nullopt, *concept_out, (*opened)->dialect());
    if (!plan || !(*opened)->apply(*plan, "test", false)) {
      ADD_FAILURE() << "the schema did not apply";
      return nullptr;
    }
    return std::move(*opened);
  }

 private:
  std::string engine_;
  std::string name_;
  bool created_ = false;
  TempDir dir_;
};

}  // namespace slipway::testing
