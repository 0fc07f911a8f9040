// Role membership: `'editor' in @auth.roles` tests the caller, not the row. The role must be one the concept file
// declares, so a misspelt role in a rule fails when the file loads instead of quietly admitting no one.
#include "core/expr/binder.h"

#include <algorithm>

#include "core/did_you_mean.h"
#include "core/expr/errors.h"

namespace slipway::expr::detail {

Result<Owned> Binder::bind_member(const ParsedExpr& e, bool negate) const {
  if (e.rhs.name != "auth.roles") {
    auto r = resolve_macro(e.rhs);  // an unknown or unsupported @-name gets its own message
    if (!r) return std::move(r).error();
    return bad_request_at("expected '(' or @auth.roles after 'in' but found '@" + e.rhs.name + "'",
                          e.rhs.span.offset);
  }
  const std::size_t pos = e.lhs.span.offset;
  if (!e.lhs.is_string()) {
    return bad_request_at("only a role name in quotes may stand left of `in @auth.roles`, like 'editor' in @auth.roles",
                          pos);
  }
  const std::string& role = std::get<std::string>(e.lhs.literal);
  if (!concept_.auth) {
    return bad_request_at("unknown role '" + role +
                              "': this app declares no roles (roles come from the `auth:` section's roles list)",
                          pos);
  }
  const std::vector<std::string>& roles = concept_.auth->roles;
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) {
    std::string hint = did_you_mean(role, std::vector<std::string_view>(roles.begin(), roles.end()));
    // The whole list only for those who may see everything of the concept (a rule's author, the admin).
    if (hint.empty() && allow_hidden()) {
      std::string all;
      for (const std::string& r : roles) all += (all.empty() ? "" : ", ") + r;
      hint = " (the roles are: " + all + ")";
    }
    return bad_request_at("unknown role '" + role + "'" + hint, pos);
  }
  return make_has_role(role, negate);
}

Result<Owned> Binder::bind_aal(const ParsedExpr& e, bool negate) const {
  const bool left = e.lhs.kind == ParsedOperand::Kind::kMacro && e.lhs.name == "auth.aal";
  const ParsedOperand& other = left ? e.rhs : e.lhs;
  ParsedOp op = e.op;
  if (op == ParsedOp::kLike || op == ParsedOp::kNotLike)
    return bad_request_at("@auth.aal is a number: compare it with = != < <= > >=, like @auth.aal >= 2",
                          e.op_span.offset);
  const auto* level = std::get_if<std::int64_t>(&other.literal);
  if (other.kind != ParsedOperand::Kind::kLiteral || level == nullptr)
    return bad_request_at("@auth.aal compares with a whole number (0 anonymous, 1 one factor, 2 two factors), like "
                          "@auth.aal >= 2",
                          other.span.offset);
  if (!left) {  // 2 <= @auth.aal  ⇔  @auth.aal >= 2
    switch (op) {
      case ParsedOp::kLt: op = ParsedOp::kGt; break;
      case ParsedOp::kLe: op = ParsedOp::kGe; break;
      case ParsedOp::kGt: op = ParsedOp::kLt; break;
      case ParsedOp::kGe: op = ParsedOp::kLe; break;
      default: break;
    }
  }
  return make_aal(op, *level, negate);
}

}  // namespace slipway::expr::detail
