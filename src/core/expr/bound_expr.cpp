#include "core/expr/bound_expr.h"

#include <algorithm>
#include <cstdio>

#include "core/concept/model.h"

namespace slipway::expr {
namespace {

std::string value_text(const Value& v) {
  if (std::holds_alternative<Null>(v)) return "null";
  if (const bool* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", *d);
    return buf;
  }
  if (const auto* s = std::get_if<std::string>(&v)) return "'" + *s + "'";
  return std::get<JsonText>(v).text;
}

std::string operand_text(const BoundOperand& o) {
  switch (o.kind) {
    case BoundOperand::Kind::kColumn: return o.column;
    case BoundOperand::Kind::kValue: return value_text(o.value);
    case BoundOperand::Kind::kAuthId: return "@auth.id";
    case BoundOperand::Kind::kNow: return "@now";
  }
  return "?";
}

bool row_operand(const BoundOperand& o) {
  switch (o.kind) {
    case BoundOperand::Kind::kColumn:
    case BoundOperand::Kind::kValue: return true;
    case BoundOperand::Kind::kAuthId:
    case BoundOperand::Kind::kNow: return false;
  }
  return false;
}

const char* op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kEq: return "=";
    case CompareOp::kDistinct: return "IS DISTINCT FROM";
    case CompareOp::kNotDistinct: return "IS NOT DISTINCT FROM";
    case CompareOp::kLt: return "<";
    case CompareOp::kLe: return "<=";
    case CompareOp::kGt: return ">";
    case CompareOp::kGe: return ">=";
  }
  return "?";
}

}  // namespace

std::string to_string(const BoundExpr& e) {
  switch (e.kind) {
    case BoundExpr::Kind::kAnd:
    case BoundExpr::Kind::kOr: {
      std::string out = "(";
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += e.kind == BoundExpr::Kind::kAnd ? " AND " : " OR ";
        out += to_string(*e.children[i]);
      }
      return out + ")";
    }
    case BoundExpr::Kind::kConst: return e.value ? "TRUE" : "FALSE";
    case BoundExpr::Kind::kCompare: return operand_text(e.lhs) + " " + op_text(e.op) + " " + operand_text(e.rhs);
    case BoundExpr::Kind::kIsNull: return operand_text(e.lhs) + (e.negated ? " IS NOT NULL" : " IS NULL");
    case BoundExpr::Kind::kIn: {
      std::string out = operand_text(e.lhs) + (e.negated ? " NOT IN (" : " IN (");
      for (std::size_t i = 0; i < e.items.size(); ++i) out += (i ? ", " : "") + value_text(e.items[i]);
      return out + ")";
    }
    case BoundExpr::Kind::kLike: return operand_text(e.lhs) + (e.negated ? " NOT LIKE '" : " LIKE '") + e.pattern + "'";
    case BoundExpr::Kind::kRelated:
      return e.relation->name + " -> " + e.target->name + "[" + to_string(*e.inner) + "]";
    case BoundExpr::Kind::kHasRole: return "'" + e.role + (e.negated ? "' NOT IN @auth.roles" : "' IN @auth.roles");
    case BoundExpr::Kind::kAal:
      return std::string(e.negated ? "NOT " : "") + "@auth.aal " + op_text(e.op) + " " + std::to_string(e.level);
  }
  return "?";
}

bool references_now(const BoundExpr& e) {
  if (e.lhs.kind == BoundOperand::Kind::kNow || e.rhs.kind == BoundOperand::Kind::kNow) return true;
  for (const auto& child : e.children)
    if (references_now(*child)) return true;
  return e.inner && references_now(*e.inner);
}

bool row_only(const BoundExpr& e) {
  switch (e.kind) {
    case BoundExpr::Kind::kAnd:
    case BoundExpr::Kind::kOr:
      return std::all_of(e.children.begin(), e.children.end(), [](const auto& c) { return row_only(*c); });
    case BoundExpr::Kind::kConst: return true;
    case BoundExpr::Kind::kCompare: return row_operand(e.lhs) && row_operand(e.rhs);
    case BoundExpr::Kind::kIsNull:
    case BoundExpr::Kind::kIn:
    case BoundExpr::Kind::kLike: return row_operand(e.lhs);
    case BoundExpr::Kind::kRelated:
    case BoundExpr::Kind::kHasRole:
    case BoundExpr::Kind::kAal: return false;
  }
  return false;
}

namespace {

bool is_auth_id(const BoundOperand& o) { return o.kind == BoundOperand::Kind::kAuthId; }

// Whether an operand compared with an anonymous caller's null @auth.id is never null itself.
bool never_null(const BoundOperand& o) {
  switch (o.kind) {
    case BoundOperand::Kind::kValue: return !std::holds_alternative<Null>(o.value);
    case BoundOperand::Kind::kColumn:
    case BoundOperand::Kind::kAuthId:
    case BoundOperand::Kind::kNow: return !o.nullable();
  }
  return false;
}

bool compare_levels(std::int64_t a, CompareOp op, std::int64_t b) {
  switch (op) {
    case CompareOp::kEq:
    case CompareOp::kNotDistinct: return a == b;
    case CompareOp::kDistinct: return a != b;
    case CompareOp::kLt: return a < b;
    case CompareOp::kLe: return a <= b;
    case CompareOp::kGt: return a > b;
    case CompareOp::kGe: return a >= b;
  }
  return false;
}

}  // namespace

bool never_true_for_anonymous(const BoundExpr& e) {
  switch (e.kind) {
    case BoundExpr::Kind::kAnd:
      return std::any_of(e.children.begin(), e.children.end(), [](const auto& c) { return never_true_for_anonymous(*c); });
    case BoundExpr::Kind::kOr:
      return std::all_of(e.children.begin(), e.children.end(), [](const auto& c) { return never_true_for_anonymous(*c); });
    case BoundExpr::Kind::kConst: return !e.value;
    case BoundExpr::Kind::kCompare: {
      if (!is_auth_id(e.lhs) && !is_auth_id(e.rhs)) return false;
      const BoundOperand& other = is_auth_id(e.lhs) ? e.rhs : e.lhs;
      switch (e.op) {
        case CompareOp::kDistinct: return false;  // true for every non-null other side
        case CompareOp::kNotDistinct: return !is_auth_id(other) && never_null(other);
        default: return true;  // an ordinary comparison with null is never true
      }
    }
    case BoundExpr::Kind::kIsNull: return is_auth_id(e.lhs) && e.negated;  // @auth.id != null
    case BoundExpr::Kind::kIn:
    case BoundExpr::Kind::kLike: return is_auth_id(e.lhs) && !e.negated;  // NOT IN / NOT LIKE hold for null
    case BoundExpr::Kind::kHasRole: return !e.negated;  // an anonymous caller holds no role
    case BoundExpr::Kind::kAal: return compare_levels(0, e.op, e.level) == e.negated;
    case BoundExpr::Kind::kRelated: return false;
  }
  return false;
}

namespace {
bool row_or_caller_operand(const BoundOperand& o) {
  switch (o.kind) {
    case BoundOperand::Kind::kColumn:
    case BoundOperand::Kind::kValue:
    case BoundOperand::Kind::kAuthId: return true;
    case BoundOperand::Kind::kNow: return false;
  }
  return false;
}
}  // namespace

bool row_and_caller_only(const BoundExpr& e) {
  switch (e.kind) {
    case BoundExpr::Kind::kAnd:
    case BoundExpr::Kind::kOr:
      return std::all_of(e.children.begin(), e.children.end(), [](const auto& c) { return row_and_caller_only(*c); });
    case BoundExpr::Kind::kConst:
    case BoundExpr::Kind::kHasRole:
    case BoundExpr::Kind::kAal: return true;
    case BoundExpr::Kind::kCompare: return row_or_caller_operand(e.lhs) && row_or_caller_operand(e.rhs);
    case BoundExpr::Kind::kIsNull:
    case BoundExpr::Kind::kIn:
    case BoundExpr::Kind::kLike: return row_or_caller_operand(e.lhs);
    case BoundExpr::Kind::kRelated: return false;
  }
  return false;
}

}  // namespace slipway::expr
