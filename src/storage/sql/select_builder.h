// SelectBuilder: the SELECT statements of the records API, in one dialect. Rules and filters are compiled into
// the WHERE clause (so a list never leaks a row the caller may not see); keyset pagination adds a condition
// "after the cursor row" that is stable under concurrent inserts. Columns: id, created, updated, version, then
// every field of the collection in file order (the api projects and strips hidden fields).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/concept/model.h"
#include "core/expr/expr.h"
#include "storage/sql/cursor.h"
#include "storage/sql/sql_builder.h"

namespace slipway::sql {

// "t"."id", "t"."created", ... for a collection.
std::string select_columns(const model::Collection& c, const Dialect& d, std::string_view alias = "t");

// The id tie-breaker follows the direction of the last sort key (ascending when there is none), so declared
// indexes (which end with id) serve the whole ORDER BY.
bool tie_breaker_descending(const std::vector<expr::SortKey>& sort);

// Canonical sort spec text ("-created,title"), used for the cursor signature.
std::string canonical_sort(const std::vector<expr::SortKey>& sort);

struct ListSql {
  SqlBuilder select;                 // SELECT ... LIMIT limit+1
  std::optional<SqlBuilder> count;   // SELECT COUNT(*) ... (without the cursor condition)
};

// `rule`: the collection's list rule (nullptr: none needed — admin). `filter` nullable.
ListSql build_list_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule,
                       const expr::BoundExpr* filter, const std::vector<expr::SortKey>& sort,
                       const DecodedCursor* after, int limit, bool count, bool admin);

// SELECT <columns> FROM c t WHERE t."id" = <p1> [AND (rule)]
SqlBuilder build_get_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule, bool admin);
// SELECT <columns> FROM c t WHERE t."id" IN (<p1>, ..., <pn>) [AND (rule)]
SqlBuilder build_get_many_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule, bool admin,
                              const std::vector<std::string>& ids);

}  // namespace slipway::sql
