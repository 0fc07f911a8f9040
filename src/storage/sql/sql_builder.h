// SqlBuilder: accumulates SQL text and its parameters together, so a placeholder and its value can never drift
// apart and user input can only ever enter as a parameter. Fragments (rule, filter, cursor, sort) append to one
// builder; the dialect numbers the placeholders.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/expr/bound_expr.h"
#include "core/principal.h"
#include "core/value.h"
#include "storage/sql/dialect.h"

namespace slipway::sql {

// A parameter known at compile time (a literal) or resolved per execution (@auth.id, a role test, @now).
// Resolving them per execution keeps one statement text for every caller, so rules are prepared once.
struct AuthIdParam {
  bool operator==(const AuthIdParam&) const = default;
};
// 'editor' in @auth.roles: 1 when the caller holds `role`, else 0 (anonymous callers hold none).
struct AuthHasRoleParam {
  std::string role;
  bool operator==(const AuthHasRoleParam&) const = default;
};
struct NowParam {
  bool operator==(const NowParam&) const = default;
};
// @auth.aal <op> level: 1 when the caller's assurance level compares so, else 0.
struct AuthAalParam {
  expr::CompareOp op = expr::CompareOp::kEq;
  std::int64_t level = 0;
  bool operator==(const AuthAalParam&) const = default;
};
using ParamSource = std::variant<Value, AuthIdParam, AuthHasRoleParam, NowParam, AuthAalParam>;

// Resolves parameter sources for one execution.
Value resolve_param(const ParamSource& p, const Principal& auth, std::int64_t now_ms);

class SqlBuilder {
 public:
  explicit SqlBuilder(const Dialect& dialect) : dialect_(&dialect) {}

  SqlBuilder& append(std::string_view text) { sql_.append(text); return *this; }
  SqlBuilder& ident(std::string_view name) { sql_.append(dialect_->quote_ident(name)); return *this; }
  // Appends a placeholder and records its source.
  SqlBuilder& param(ParamSource p) {
    params_.push_back(std::move(p));
    sql_.append(dialect_->placeholder(static_cast<int>(params_.size())));
    return *this;
  }

  const Dialect& dialect() const { return *dialect_; }
  const std::string& sql() const { return sql_; }
  const std::vector<ParamSource>& params() const { return params_; }
  std::string take_sql() { return std::move(sql_); }
  std::vector<ParamSource> take_params() { return std::move(params_); }

 private:
  const Dialect* dialect_;
  std::string sql_;
  std::vector<ParamSource> params_;
};

}  // namespace slipway::sql
