#include "storage/sql/select_builder.h"

#include "storage/sql/expr_compiler.h"

namespace slipway::sql {
namespace {

void column(SqlBuilder& b, std::string_view alias, std::string_view name) {
  b.append(alias).append(".").ident(name);
}

void where_rule_and_filter(SqlBuilder& b, const expr::BoundExpr* rule, const expr::BoundExpr* filter, bool admin,
                           bool& first) {
  CompileOptions opts;
  opts.admin = admin;
  for (const expr::BoundExpr* e : {rule, filter}) {
    if (!e) continue;
    b.append(first ? " WHERE " : " AND ");
    first = false;
    compile_condition(*e, b, opts);
  }
}

// Keyset condition: the row comes strictly after the cursor row in ORDER BY (k1 dir1, ..., id dirN) where NULL
// sorts first in ascending order and last in descending order (SQLite's order; PostgreSQL is told explicitly).
void after_cursor(SqlBuilder& b, const std::vector<expr::SortKey>& sort, const DecodedCursor& cur) {
  b.append("(");
  const std::size_t n = sort.size();
  for (std::size_t level = 0; level <= n; ++level) {  // level n = the id tie-breaker
    if (level) b.append(" OR ");
    b.append("(");
    for (std::size_t i = 0; i < level; ++i) {  // equal on every earlier key
      column(b, "t", sort[i].field);
      if (is_null(cur.keys[i])) b.append(" IS NULL AND ");
      else b.append(" = ").param(cur.keys[i]).append(" AND ");
    }
    if (level == n) {
      column(b, "t", "id");
      b.append(tie_breaker_descending(sort) ? " < " : " > ").param(Value(cur.id));
    } else {
      const Value& v = cur.keys[level];
      const bool desc = sort[level].descending;
      if (!desc) {
        column(b, "t", sort[level].field);
        if (is_null(v)) b.append(" IS NOT NULL");
        else b.append(" > ").param(v);
      } else if (is_null(v)) {
        b.append(b.dialect().false_literal());  // nothing sorts after NULL in descending order
      } else {
        b.append("(");
        column(b, "t", sort[level].field);
        b.append(" < ").param(v).append(" OR ");
        column(b, "t", sort[level].field);
        b.append(" IS NULL)");
      }
    }
    b.append(")");
  }
  b.append(")");
}

}  // namespace

bool tie_breaker_descending(const std::vector<expr::SortKey>& sort) { return !sort.empty() && sort.back().descending; }

std::string select_columns(const model::Collection& c, const Dialect& d, std::string_view alias) {
  std::string s;
  auto add = [&](std::string_view name) {
    if (!s.empty()) s += ", ";
    s.append(alias).append(".").append(d.quote_ident(name));
  };
  for (const char* sys : model::kSystemFields) add(sys);
  for (const auto& f : c.fields) add(f.name);
  return s;
}

std::string canonical_sort(const std::vector<expr::SortKey>& sort) {
  std::string s;
  for (const auto& k : sort) {
    if (!s.empty()) s += ',';
    if (k.descending) s += '-';
    s += k.field;
  }
  return s;
}

ListSql build_list_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule,
                       const expr::BoundExpr* filter, const std::vector<expr::SortKey>& sort,
                       const DecodedCursor* after, int limit, bool count, bool admin) {
  ListSql out{SqlBuilder(d), std::nullopt};
  SqlBuilder& b = out.select;
  b.append("SELECT ").append(select_columns(c, d)).append(" FROM ").ident(c.name).append(" t");
  bool first = true;
  where_rule_and_filter(b, rule, filter, admin, first);
  if (after) {
    b.append(first ? " WHERE " : " AND ");
    first = false;
    after_cursor(b, sort, *after);
  }
  b.append(" ORDER BY ");
  for (const auto& k : sort) {
    column(b, "t", k.field);
    b.append(k.descending ? " DESC" : " ASC");
    if (k.field != "id") b.append(d.nulls_order(k.descending));  // never null; as the primary key orders it
    b.append(", ");
  }
  column(b, "t", "id");
  b.append(tie_breaker_descending(sort) ? " DESC" : " ASC").append(" LIMIT ").param(Value(static_cast<std::int64_t>(limit) + 1));
  if (count) {
    SqlBuilder cb(d);
    cb.append("SELECT COUNT(*) FROM ").ident(c.name).append(" t");
    bool cfirst = true;
    where_rule_and_filter(cb, rule, filter, admin, cfirst);
    out.count.emplace(std::move(cb));
  }
  return out;
}

SqlBuilder build_get_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule, bool admin) {
  SqlBuilder b(d);
  b.append("SELECT ").append(select_columns(c, d)).append(" FROM ").ident(c.name).append(" t WHERE t.");
  b.ident("id").append(" = ").param(Value(std::string()));  // placeholder 1: the id, bound by the caller
  bool first = false;
  where_rule_and_filter(b, rule, nullptr, admin, first);
  return b;
}

SqlBuilder build_get_many_sql(const Dialect& d, const model::Collection& c, const expr::BoundExpr* rule, bool admin,
                              const std::vector<std::string>& ids) {
  SqlBuilder b(d);
  b.append("SELECT ").append(select_columns(c, d)).append(" FROM ").ident(c.name).append(" t WHERE t.");
  b.ident("id").append(" IN (");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) b.append(", ");
    b.param(Value(ids[i]));
  }
  b.append(")");
  bool first = false;
  where_rule_and_filter(b, rule, nullptr, admin, first);
  return b;
}

}  // namespace slipway::sql
