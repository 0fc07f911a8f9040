#include "core/expr/parsed_expr.h"

#include <cstdio>

namespace slipway::expr {
namespace {

std::string operand_text(const ParsedOperand& o) {
  switch (o.kind) {
    case ParsedOperand::Kind::kField: return o.name;
    case ParsedOperand::Kind::kMacro: return "@" + o.name;
    case ParsedOperand::Kind::kLiteral: break;
  }
  if (std::holds_alternative<Null>(o.literal)) return "null";
  if (const bool* b = std::get_if<bool>(&o.literal)) return *b ? "true" : "false";
  if (const std::int64_t* i = std::get_if<std::int64_t>(&o.literal)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&o.literal)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", *d);
    return buf;
  }
  return "'" + o.raw + "'";
}

}  // namespace

const char* op_text(ParsedOp op) {
  switch (op) {
    case ParsedOp::kEq: return "=";
    case ParsedOp::kNe: return "!=";
    case ParsedOp::kLt: return "<";
    case ParsedOp::kLe: return "<=";
    case ParsedOp::kGt: return ">";
    case ParsedOp::kGe: return ">=";
    case ParsedOp::kLike: return "~";
    case ParsedOp::kNotLike: return "!~";
  }
  return "?";
}

std::string to_string(const ParsedExpr& e) {
  switch (e.kind) {
    case ParsedExpr::Kind::kAnd:
    case ParsedExpr::Kind::kOr: {
      std::string out = "(";
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) out += e.kind == ParsedExpr::Kind::kAnd ? " && " : " || ";
        out += to_string(*e.children[i]);
      }
      return out + ")";
    }
    case ParsedExpr::Kind::kNot: return "!" + to_string(*e.children[0]);
    case ParsedExpr::Kind::kCompare:
      return "(" + operand_text(e.lhs) + " " + op_text(e.op) + " " + operand_text(e.rhs) + ")";
    case ParsedExpr::Kind::kIn: {
      std::string out = "(" + operand_text(e.lhs) + " in (";
      for (std::size_t i = 0; i < e.items.size(); ++i) {
        if (i) out += ", ";
        out += operand_text(e.items[i]);
      }
      return out + "))";
    }
    case ParsedExpr::Kind::kMember: return "(" + operand_text(e.lhs) + " in " + operand_text(e.rhs) + ")";
    case ParsedExpr::Kind::kBare: return operand_text(e.lhs);
  }
  return "";
}

}  // namespace slipway::expr
