// Compiles a BoundExpr into a SQL boolean condition appended to a SqlBuilder. Values become parameters, never
// text. Relation paths (`author.name`) become `t."author" IN (SELECT "id" FROM "users" WHERE ... AND <users
// view rule>)`, so nothing a caller may not view can be matched.
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "storage/sql/sql_builder.h"

namespace slipway::expr {
struct BoundExpr;
}

namespace slipway::sql {

struct CompileOptions {
  std::string_view table_alias = "t";  // the alias of the collection's table in the enclosing query
  bool admin = false;                  // true: related collections' view rules are not applied (admin sees all)
};

// Appends "(<condition>)" to `out`.
void compile_condition(const expr::BoundExpr& expr, SqlBuilder& out, const CompileOptions& options = {});

}  // namespace slipway::sql
