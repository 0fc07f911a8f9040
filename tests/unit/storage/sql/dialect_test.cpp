#include "storage/sql/dialect.h"

#include <gtest/gtest.h>

namespace slipway::sql {
namespace {

using model::FieldType;

TEST(SqlDialect, SqlitePlaceholdersTypesAndLiterals) {
  auto d = make_sqlite_dialect();
  EXPECT_EQ(d->kind(), DialectKind::kSqlite);
  EXPECT_EQ(d->placeholder(1), "?1");
  EXPECT_EQ(d->placeholder(12), "?12");
  EXPECT_EQ(d->column_type(FieldType::kText), "TEXT");
  EXPECT_EQ(d->column_type(FieldType::kInt), "INTEGER");
  EXPECT_EQ(d->column_type(FieldType::kFloat), "REAL");
  EXPECT_EQ(d->column_type(FieldType::kBool), "INTEGER");
  EXPECT_EQ(d->column_type(FieldType::kDatetime), "TEXT");
  EXPECT_EQ(d->column_type(FieldType::kJson), "TEXT");
  EXPECT_EQ(d->column_type(FieldType::kRelation), "TEXT");
  EXPECT_EQ(d->column_type(FieldType::kEnum), "TEXT");
  EXPECT_EQ(d->like_operator(), "LIKE");
  EXPECT_EQ(d->null_safe_eq(), "IS");
  EXPECT_EQ(d->null_safe_ne(), "IS NOT");
  EXPECT_EQ(d->true_literal(), "1");
  EXPECT_EQ(d->false_literal(), "0");
  EXPECT_EQ(d->nulls_order(false), "");
  EXPECT_EQ(d->nulls_order(true), "");
}

TEST(SqlDialect, PostgresPlaceholdersTypesAndLiterals) {
  auto d = make_postgres_dialect();
  EXPECT_EQ(d->kind(), DialectKind::kPostgres);
  EXPECT_EQ(d->placeholder(1), "$1");
  EXPECT_EQ(d->placeholder(30), "$30");
  EXPECT_EQ(d->column_type(FieldType::kText), "text");
  EXPECT_EQ(d->column_type(FieldType::kInt), "bigint");
  EXPECT_EQ(d->column_type(FieldType::kFloat), "double precision");
  EXPECT_EQ(d->column_type(FieldType::kBool), "boolean");
  EXPECT_EQ(d->column_type(FieldType::kDatetime), "timestamptz");
  EXPECT_EQ(d->column_type(FieldType::kJson), "json");
  EXPECT_EQ(d->column_type(FieldType::kEmail), "text");
  EXPECT_EQ(d->like_operator(), "ILIKE");
  EXPECT_EQ(d->null_safe_eq(), "IS NOT DISTINCT FROM");
  EXPECT_EQ(d->null_safe_ne(), "IS DISTINCT FROM");
  EXPECT_EQ(d->true_literal(), "TRUE");
  EXPECT_EQ(d->false_literal(), "FALSE");
  EXPECT_EQ(d->nulls_order(false), " NULLS FIRST");  // SQLite's default order, made explicit
  EXPECT_EQ(d->nulls_order(true), " NULLS LAST");
}

TEST(SqlDialect, QuoteIdentDoublesEmbeddedQuotes) {
  std::unique_ptr<Dialect> dialects[] = {make_sqlite_dialect(), make_postgres_dialect()};
  for (const auto& d : dialects) {
    EXPECT_EQ(d->quote_ident("title"), "\"title\"");
    EXPECT_EQ(d->quote_ident("we\"ird"), "\"we\"\"ird\"");
    EXPECT_EQ(d->quote_ident("\"; DROP TABLE x; --"), "\"\"\"; DROP TABLE x; --\"");
    EXPECT_EQ(d->quote_ident(""), "\"\"");
  }
}

}  // namespace
}  // namespace slipway::sql
