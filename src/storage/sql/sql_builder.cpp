#include "storage/sql/sql_builder.h"

#include "core/clock.h"

namespace slipway::sql {
namespace {

// One overload per alternative: a new ParamSource does not compile until it says how it resolves.
struct Resolver {
  const Principal& auth;
  std::int64_t now_ms;

  Value operator()(const Value& v) const { return v; }
  Value operator()(const AuthIdParam&) const { return auth.id ? Value(*auth.id) : Value(Null{}); }
  Value operator()(const AuthHasRoleParam& p) const { return Value(std::int64_t{auth.has_role(p.role) ? 1 : 0}); }
  Value operator()(const NowParam&) const { return Value(format_rfc3339_ms(now_ms)); }
  Value operator()(const AuthAalParam& p) const {
    const std::int64_t aal = auth.aal;
    bool holds = false;
    switch (p.op) {
      case expr::CompareOp::kLt: holds = aal < p.level; break;
      case expr::CompareOp::kLe: holds = aal <= p.level; break;
      case expr::CompareOp::kGt: holds = aal > p.level; break;
      case expr::CompareOp::kGe: holds = aal >= p.level; break;
      default: holds = aal == p.level; break;
    }
    return Value(std::int64_t{holds ? 1 : 0});
  }
};

}  // namespace

Value resolve_param(const ParamSource& p, const Principal& auth, std::int64_t now_ms) {
  return std::visit(Resolver{auth, now_ms}, p);
}

}  // namespace slipway::sql
