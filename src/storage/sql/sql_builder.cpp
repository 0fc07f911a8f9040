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
};

}  // namespace

Value resolve_param(const ParamSource& p, const Principal& auth, std::int64_t now_ms) {
  return std::visit(Resolver{auth, now_ms}, p);
}

}  // namespace slipway::sql
