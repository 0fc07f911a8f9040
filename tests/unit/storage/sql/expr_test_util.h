// Helpers for expression compiler tests: compile a filter text for a dialect and render the parameters.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "core/expr/expr.h"
#include "core/expr/parsed_expr.h"
#include "storage/sql/expr_compiler.h"
#include "unit/core/expr/blog_fixture.h"

namespace slipway::sql::testing {

inline std::string render_value(const Value& v) {
  if (std::holds_alternative<Null>(v)) return "null";
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", *d);
    std::string s = buf;
    if (s.find_first_of(".en") == std::string::npos) s += ".0";  // keep doubles visibly doubles
    return s;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  return std::get<JsonText>(v).text;
}

inline std::string render_params(const std::vector<ParamSource>& params) {
  std::string out;
  for (const ParamSource& p : params) {
    if (!out.empty()) out += ", ";
    if (const Value* v = std::get_if<Value>(&p)) out += render_value(*v);
    else if (std::holds_alternative<AuthIdParam>(p)) out += "@auth.id";
    else if (const auto* r = std::get_if<AuthHasRoleParam>(&p)) out += "@auth.roles∋" + r->role;
    else if (const auto* a = std::get_if<AuthAalParam>(&p))
      out += "@auth.aal" + std::string(a->op == expr::CompareOp::kGe ? ">=" : a->op == expr::CompareOp::kGt ? ">"
                                       : a->op == expr::CompareOp::kLe ? "<=" : a->op == expr::CompareOp::kLt ? "<"
                                                                                                              : "=") +
             std::to_string(a->level);
    else out += "@now";
  }
  return out;
}

struct Compiled {
  std::string sql;     // or "error@<position>: <detail>"
  std::string params;
};

// `c` must be a collection of `concept_file`.
inline Compiled compile(std::string_view text, const Dialect& d, const model::Collection& c, bool admin = false,
                        expr::Purpose purpose = expr::Purpose::kFilter,
                        const model::Concept& concept_file = slipway::testing::blog_concept()) {
  expr::BindOptions o;
  o.admin = admin;
  o.purpose = purpose;
  auto b = expr::parse_and_bind(text, c, concept_file, o);
  if (!b) return {"error@" + std::to_string(b.error().position) + ": " + b.error().detail, ""};
  SqlBuilder out(d);
  CompileOptions co;
  co.admin = admin;
  compile_condition(**b, out, co);
  return {out.sql(), render_params(out.params())};
}

}  // namespace slipway::sql::testing
