#include "storage/sql/sql_builder.h"

#include "core/clock.h"

namespace slipway::sql {

Value resolve_param(const ParamSource& p, const Principal& auth, std::int64_t now_ms) {
  if (const Value* v = std::get_if<Value>(&p)) return *v;
  if (std::holds_alternative<AuthIdParam>(p)) return auth.id ? Value(*auth.id) : Value(Null{});
  if (std::holds_alternative<AuthRoleParam>(p)) return auth.roles.empty() ? Value(Null{}) : Value(auth.roles.front());
  return Value(format_rfc3339_ms(now_ms));
}

}  // namespace slipway::sql
