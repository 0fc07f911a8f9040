// Dialect: every piece of SQL text that differs between SQLite and PostgreSQL is produced here, so the rest of
// storage/sql builds statements once for both. Thread safety: dialects are immutable singletons-by-value
// (created in serve.cpp and passed down), safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/concept/model.h"

namespace slipway::sql {

enum class DialectKind { kSqlite, kPostgres };

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual DialectKind kind() const = 0;
  // The placeholder for the n-th parameter (1-based): SQLite "?1", PostgreSQL "$1".
  virtual std::string placeholder(int n) const = 0;
  // "name" with embedded quotes doubled. Identifiers come from the validated concept file only.
  std::string quote_ident(std::string_view name) const;
  // The column type for a field type: SQLite TEXT/INTEGER/REAL; PostgreSQL text/bigint/double precision/...
  virtual std::string column_type(model::FieldType type) const = 0;
  // The operator of `~`: SQLite "LIKE" (case-insensitive for ASCII), PostgreSQL "ILIKE". The compiler adds
  // the placeholder and " ESCAPE '\'".
  virtual std::string like_operator() const = 0;
  // Null-safe equality / inequality: SQLite "IS" / "IS NOT", PostgreSQL "IS NOT DISTINCT FROM" / "IS DISTINCT FROM".
  virtual std::string null_safe_eq() const = 0;
  virtual std::string null_safe_ne() const = 0;
  // Boolean literals: SQLite 1/0, PostgreSQL TRUE/FALSE.
  virtual std::string true_literal() const = 0;
  virtual std::string false_literal() const = 0;
  // Suffix of a SELECT that reads rows a write transaction is about to change, locking them against concurrent
  // writers until it ends: PostgreSQL " FOR UPDATE OF <alias>"; SQLite "" (one writer: nothing runs concurrently).
  virtual std::string lock_rows(std::string_view alias) const = 0;
  // A column of an index, ordered so that the index serves the ORDER BY terms nulls_order() writes (a forward scan
  // ASC NULLS FIRST, a backward one DESC NULLS LAST): PostgreSQL "\"col\" NULLS FIRST", SQLite "\"col\"". `id` (never
  // null, the tie-breaker, ordered without a NULLS clause) stays plain.
  virtual std::string index_column(std::string_view name) const = 0;
  // ORDER BY term suffix making NULLs sort first in ASC and last in DESC on both engines (SQLite's default).
  virtual std::string nulls_order(bool descending) const = 0;
};

std::unique_ptr<Dialect> make_sqlite_dialect();
std::unique_ptr<Dialect> make_postgres_dialect();

}  // namespace slipway::sql
