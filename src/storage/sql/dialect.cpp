#include "storage/sql/dialect.h"

namespace slipway::sql {
namespace {

class SqliteDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::kSqlite; }
  std::string placeholder(int n) const override { return "?" + std::to_string(n); }
  std::string column_type(model::FieldType type) const override {
    switch (type) {
      case model::FieldType::kInt:
      case model::FieldType::kBool: return "INTEGER";  // bool as 0/1
      case model::FieldType::kFloat: return "REAL";
      default: return "TEXT";  // text, email, url, enum, relation ids, datetimes (RFC 3339 ms), json
    }
  }
  std::string like_operator() const override { return "LIKE"; }
  std::string null_safe_eq() const override { return "IS"; }
  std::string null_safe_ne() const override { return "IS NOT"; }
  std::string true_literal() const override { return "1"; }
  std::string false_literal() const override { return "0"; }
  std::string nulls_order(bool) const override { return ""; }  // already NULLs first in ASC, last in DESC
  std::string lock_rows(std::string_view) const override { return ""; }
  std::string index_column(std::string_view name) const override { return quote_ident(name); }
};

class PostgresDialect final : public Dialect {
 public:
  DialectKind kind() const override { return DialectKind::kPostgres; }
  std::string placeholder(int n) const override { return "$" + std::to_string(n); }
  std::string column_type(model::FieldType type) const override {
    switch (type) {
      case model::FieldType::kInt: return "bigint";
      case model::FieldType::kFloat: return "double precision";
      case model::FieldType::kBool: return "boolean";
      case model::FieldType::kDatetime: return "timestamptz";
      case model::FieldType::kJson: return "json";  // kept verbatim, as SQLite keeps it (jsonb would reformat it)
      default: return "text";
    }
  }
  std::string like_operator() const override { return "ILIKE"; }
  std::string null_safe_eq() const override { return "IS NOT DISTINCT FROM"; }
  std::string null_safe_ne() const override { return "IS DISTINCT FROM"; }
  std::string true_literal() const override { return "TRUE"; }
  std::string false_literal() const override { return "FALSE"; }
  std::string nulls_order(bool descending) const override { return descending ? " NULLS LAST" : " NULLS FIRST"; }
  std::string lock_rows(std::string_view alias) const override { return " FOR UPDATE OF " + std::string(alias); }
  std::string index_column(std::string_view name) const override {
    return name == "id" ? quote_ident(name) : quote_ident(name) + " NULLS FIRST";
  }
};

}  // namespace

std::string Dialect::quote_ident(std::string_view name) const {
  std::string out;
  out.reserve(name.size() + 2);
  out.push_back('"');
  for (const char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::unique_ptr<Dialect> make_sqlite_dialect() { return std::make_unique<SqliteDialect>(); }
std::unique_ptr<Dialect> make_postgres_dialect() { return std::make_unique<PostgresDialect>(); }

}  // namespace slipway::sql
