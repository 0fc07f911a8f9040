// BoundExpr → SQL. The bound tree is already in negation normal form with its null guards (core/expr/nnf.cpp),
// so each node is emitted as written. Only identifiers from the concept and fixed keywords become SQL text;
// every value, including @auth.*, a role test's answer and @now, is a parameter.
#include "storage/sql/expr_compiler.h"

#include "core/concept/model.h"
#include "core/expr/bound_expr.h"

namespace slipway::sql {
namespace {

using expr::BoundExpr;
using expr::BoundOperand;
using expr::CompareOp;

// How many relation subqueries may nest through the view rules of related collections (a rule that reaches
// back to its own collection would otherwise recurse forever). Beyond it a path matches nothing.
constexpr int kMaxRelatedDepth = 2;

class Compiler {
 public:
  Compiler(SqlBuilder& out, const CompileOptions& options) : out_(out), admin_(options.admin) {}

  // Emits `e` with columns qualified by `alias`. `nested`: wrap AND/OR in parentheses.
  void node(const BoundExpr& e, std::string_view alias, int depth, bool nested) {
    switch (e.kind) {
      case BoundExpr::Kind::kAnd:
      case BoundExpr::Kind::kOr: {
        if (nested) out_.append("(");
        for (std::size_t i = 0; i < e.children.size(); ++i) {
          if (i) out_.append(e.kind == BoundExpr::Kind::kAnd ? " AND " : " OR ");
          node(*e.children[i], alias, depth, true);
        }
        if (nested) out_.append(")");
        return;
      }
      case BoundExpr::Kind::kConst: constant(e.value); return;
      case BoundExpr::Kind::kCompare:
        operand(e.lhs, alias);
        out_.append(" ").append(op_sql(e.op)).append(" ");
        operand(e.rhs, alias);
        return;
      case BoundExpr::Kind::kIsNull:
        operand(e.lhs, alias);
        out_.append(e.negated ? " IS NOT NULL" : " IS NULL");
        return;
      case BoundExpr::Kind::kIn:
        operand(e.lhs, alias);
        out_.append(e.negated ? " NOT IN (" : " IN (");
        for (std::size_t i = 0; i < e.items.size(); ++i) {
          if (i) out_.append(", ");
          out_.param(e.items[i]);
        }
        out_.append(")");
        return;
      case BoundExpr::Kind::kLike:
        operand(e.lhs, alias);
        out_.append(e.negated ? " NOT " : " ").append(out_.dialect().like_operator()).append(" ");
        out_.param(Value(e.pattern));
        out_.append(" ESCAPE '\\'");
        return;
      case BoundExpr::Kind::kRelated: related(e, alias, depth); return;
      case BoundExpr::Kind::kHasRole:
        // The same for every row: a parameter the caller resolves to 1 or 0, so one statement serves everyone.
        runtime_param(AuthHasRoleParam{e.role}, model::FieldType::kInt);
        out_.append(e.negated ? " = 0" : " = 1");
        return;
      case BoundExpr::Kind::kAal:
        runtime_param(AuthAalParam{e.op, e.level}, model::FieldType::kInt);
        out_.append(e.negated ? " = 0" : " = 1");
        return;
    }
  }

 private:
  void constant(bool v) { out_.append(v ? out_.dialect().true_literal() : out_.dialect().false_literal()); }

  std::string op_sql(CompareOp op) const {
    switch (op) {
      case CompareOp::kEq: return "=";
      case CompareOp::kDistinct: return out_.dialect().null_safe_ne();
      case CompareOp::kNotDistinct: return out_.dialect().null_safe_eq();
      case CompareOp::kLt: return "<";
      case CompareOp::kLe: return "<=";
      case CompareOp::kGt: return ">";
      case CompareOp::kGe: return ">=";
    }
    return "=";
  }

  // PostgreSQL cannot infer the type of a parameter that meets no column (`$1 IS NULL`), so runtime values
  // carry an explicit cast there.
  void runtime_param(ParamSource p, model::FieldType type) {
    const bool cast = out_.dialect().kind() == DialectKind::kPostgres;
    if (cast) out_.append("CAST(");
    out_.param(std::move(p));
    if (cast) out_.append(" AS ").append(out_.dialect().column_type(type)).append(")");
  }

  void operand(const BoundOperand& o, std::string_view alias) {
    switch (o.kind) {
      case BoundOperand::Kind::kColumn: out_.append(alias).append(".").ident(o.column); return;
      case BoundOperand::Kind::kValue: out_.param(o.value); return;
      case BoundOperand::Kind::kAuthId: runtime_param(AuthIdParam{}, model::FieldType::kText); return;
      case BoundOperand::Kind::kNow: runtime_param(NowParam{}, model::FieldType::kDatetime); return;
    }
  }

  // alias."author" IN (SELECT rN."id" FROM "users" rN WHERE (<inner>) AND (<users view rule>))
  void related(const BoundExpr& e, std::string_view alias, int depth) {
    const model::Rule* view = e.target->rules.view ? &*e.target->rules.view : nullptr;
    if (depth >= kMaxRelatedDepth || (!admin_ && (!view || !view->bound))) {
      constant(false);  // the caller may view no related record: the path matches nothing
      return;
    }
    const std::string sub = "r" + std::to_string(++aliases_);
    out_.append(alias).append(".").ident(e.relation->name).append(" IN (SELECT ");
    out_.append(sub).append(".").ident("id").append(" FROM ").ident(e.target->name).append(" ").append(sub);
    out_.append(" WHERE (");
    node(*e.inner, sub, depth + 1, false);
    out_.append(")");
    if (!admin_) {
      out_.append(" AND (");
      node(*view->bound, sub, depth + 1, false);
      out_.append(")");
    }
    out_.append(")");
  }

  SqlBuilder& out_;
  bool admin_;
  int aliases_ = 0;
};

}  // namespace

void compile_condition(const expr::BoundExpr& expr, SqlBuilder& out, const CompileOptions& options) {
  out.append("(");
  Compiler(out, options).node(expr, options.table_alias, 0, false);
  out.append(")");
}

}  // namespace slipway::sql
