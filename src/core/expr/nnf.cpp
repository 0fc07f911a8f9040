// Negation normal form. Under slipway's two-valued semantics (README.md, "Null") the complement of each atom is:
//   a = b    → a IS DISTINCT FROM b            when a or b can never be null, else that OR (a IS NULL AND b IS NULL)
//   a != b   → a = b                            when a or b can never be null, else a IS NOT DISTINCT FROM b
//   a < b    → a >= b [OR a IS NULL] [OR b IS NULL]   (each guard only for a side that can be null)
//   a IN (…) → a NOT IN (…) [OR a IS NULL];   a LIKE p → a NOT LIKE p [OR a IS NULL]
//   a IS NULL ↔ a IS NOT NULL;  true ↔ false;  holds role r ↔ does not hold r (never null: an anonymous caller
//   holds no roles);  De Morgan for AND/OR (in binder.cpp).
#include "core/expr/binder.h"

namespace slipway::expr::detail {
namespace {

Owned node(BoundExpr::Kind kind, const model::Collection* c) {
  auto n = std::make_unique<BoundExpr>();
  n->kind = kind;
  n->collection = c;
  return n;
}

Owned compare(const model::Collection* c, CompareOp op, BoundOperand l, BoundOperand r) {
  auto n = node(BoundExpr::Kind::kCompare, c);
  n->op = op;
  n->lhs = std::move(l);
  n->rhs = std::move(r);
  return n;
}

CompareOp ordering(ParsedOp op) {
  switch (op) {
    case ParsedOp::kLt: return CompareOp::kLt;
    case ParsedOp::kLe: return CompareOp::kLe;
    case ParsedOp::kGt: return CompareOp::kGt;
    default: return CompareOp::kGe;
  }
}

CompareOp inverse(CompareOp op) {
  switch (op) {
    case CompareOp::kLt: return CompareOp::kGe;
    case CompareOp::kLe: return CompareOp::kGt;
    case CompareOp::kGt: return CompareOp::kLe;
    default: return CompareOp::kLt;  // kGe
  }
}

// `positive` OR x IS NULL (only when x can be null).
Owned or_null(const model::Collection* c, Owned positive, const BoundOperand& x) {
  if (!x.nullable()) return positive;
  std::vector<Owned> parts;
  parts.push_back(std::move(positive));
  parts.push_back(make_is_null(c, x, false));
  return make_junction(BoundExpr::Kind::kOr, std::move(parts));
}

}  // namespace

Owned make_const(bool value) {
  auto n = node(BoundExpr::Kind::kConst, nullptr);
  n->value = value;
  return n;
}

Owned make_junction(BoundExpr::Kind kind, std::vector<Owned> children) {
  if (children.size() == 1) return std::move(children.front());
  auto n = node(kind, nullptr);
  for (Owned& c : children) n->children.push_back(std::move(c));
  return n;
}

Owned make_is_null(const model::Collection* c, BoundOperand x, bool is_not) {
  auto n = node(BoundExpr::Kind::kIsNull, c);
  n->lhs = std::move(x);
  n->negated = is_not;
  return n;
}

Owned make_compare(const model::Collection* c, ParsedOp op, BoundOperand l, BoundOperand r, bool negate) {
  const bool either_never_null = !l.nullable() || !r.nullable();
  switch (op) {
    case ParsedOp::kEq: {
      if (!negate) return compare(c, CompareOp::kEq, std::move(l), std::move(r));
      if (either_never_null) return compare(c, CompareOp::kDistinct, std::move(l), std::move(r));
      std::vector<Owned> both_null;
      both_null.push_back(make_is_null(c, l, false));
      both_null.push_back(make_is_null(c, r, false));
      std::vector<Owned> parts;
      parts.push_back(compare(c, CompareOp::kDistinct, std::move(l), std::move(r)));
      parts.push_back(make_junction(BoundExpr::Kind::kAnd, std::move(both_null)));
      return make_junction(BoundExpr::Kind::kOr, std::move(parts));
    }
    case ParsedOp::kNe:
      if (!negate) return compare(c, CompareOp::kDistinct, std::move(l), std::move(r));
      return compare(c, either_never_null ? CompareOp::kEq : CompareOp::kNotDistinct, std::move(l), std::move(r));
    default: break;
  }
  const CompareOp pos = ordering(op);
  if (!negate) return compare(c, pos, std::move(l), std::move(r));
  std::vector<Owned> parts;
  parts.push_back(compare(c, inverse(pos), l, r));
  if (l.nullable()) parts.push_back(make_is_null(c, l, false));
  if (r.nullable()) parts.push_back(make_is_null(c, r, false));
  return make_junction(BoundExpr::Kind::kOr, std::move(parts));
}

Owned make_in(const model::Collection* c, BoundOperand x, std::vector<Value> items, bool negate) {
  auto n = node(BoundExpr::Kind::kIn, c);
  n->lhs = x;
  n->items = std::move(items);
  n->negated = negate;
  return negate ? or_null(c, std::move(n), x) : std::move(n);
}

Owned make_like(const model::Collection* c, BoundOperand x, std::string pattern, bool negate) {
  auto n = node(BoundExpr::Kind::kLike, c);
  n->lhs = x;
  n->pattern = std::move(pattern);
  n->negated = negate;
  return negate ? or_null(c, std::move(n), x) : std::move(n);
}

Owned make_aal(ParsedOp op, std::int64_t level, bool negate) {
  auto n = node(BoundExpr::Kind::kAal, nullptr);
  n->level = level;
  switch (op) {  // never null (an anonymous caller is level 0), so != is a negated =
    case ParsedOp::kLt: n->op = CompareOp::kLt; break;
    case ParsedOp::kLe: n->op = CompareOp::kLe; break;
    case ParsedOp::kGt: n->op = CompareOp::kGt; break;
    case ParsedOp::kGe: n->op = CompareOp::kGe; break;
    case ParsedOp::kNe: negate = !negate; [[fallthrough]];
    default: n->op = CompareOp::kEq; break;
  }
  n->negated = negate;
  return n;
}

Owned make_has_role(std::string role, bool negate) {
  auto n = node(BoundExpr::Kind::kHasRole, nullptr);
  n->role = std::move(role);
  n->negated = negate;
  return n;
}

std::string like_pattern(std::string_view raw) {
  std::string out;
  bool wildcard = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      const char e = raw[++i];
      if (e == '%' || e == '_' || e == '\\') out.push_back('\\');
      out.push_back(e);  // \' and \" are just the quote
    } else if (c == '%') {
      wildcard = true;
      out.push_back('%');
    } else if (c == '_') {
      out += "\\_";
    } else {
      out.push_back(c);
    }
  }
  return wildcard ? out : "%" + out + "%";
}

}  // namespace slipway::expr::detail
