// Type rules of comparisons (README.md, "Types"): which operand kinds may meet, and with which operators.
#include "core/expr/binder.h"

#include <algorithm>
#include <optional>

#include "core/expr/errors.h"

namespace slipway::expr::detail {
namespace {

bool is_ordering(ParsedOp op) {
  return op == ParsedOp::kLt || op == ParsedOp::kLe || op == ParsedOp::kGt || op == ParsedOp::kGe;
}

// a < b  ⇔  b > a
ParsedOp flip(ParsedOp op) {
  switch (op) {
    case ParsedOp::kLt: return ParsedOp::kGt;
    case ParsedOp::kLe: return ParsedOp::kGe;
    case ParsedOp::kGt: return ParsedOp::kLt;
    case ParsedOp::kGe: return ParsedOp::kLe;
    default: return op;
  }
}

bool is_column(const Resolved& r) {
  return r.kind == Resolved::Kind::kColumn || r.kind == Resolved::Kind::kPath;
}

// Which columns an @-value may be compared with: @auth.id with relation/text/id, @now with datetimes.
bool macro_accepts(const Resolved& macro, const Resolved& col) {
  const model::Field* f = col.column.field;
  switch (macro.kind) {
    case Resolved::Kind::kAuthId:
      return f ? (f->type == model::FieldType::kRelation || f->type == model::FieldType::kText)
               : col.column.name == "id";
    case Resolved::Kind::kNow: return col.category == names::Category::kDatetime;
    default: return false;
  }
}

// `status != done`: `done` parses as a field name. When it is no field, on the right of a text or enum field, the
// user almost surely meant the word itself. Says so unless the name looks like a misspelt field (then the
// did-you-mean in `detail` is the better hint); an enum's own value always gets the hint.
std::optional<std::string> unquoted_word_hint(const Resolved& l, const ParsedOperand& rhs, const std::string& detail) {
  if (rhs.kind != ParsedOperand::Kind::kField || rhs.name.find('.') != std::string::npos) return std::nullopt;
  if (!is_column(l) || !l.column.field || !names::is_text_like(l.column.field->type)) return std::nullopt;
  const model::Field& f = *l.column.field;
  const bool enum_value =
      f.type == model::FieldType::kEnum && std::find(f.values.begin(), f.values.end(), rhs.name) != f.values.end();
  if (!enum_value && detail.find("(did you mean") != std::string::npos) return std::nullopt;
  return "unknown field '" + rhs.name + "' (if you meant the value, quote it: '" + rhs.name + "')";
}

}  // namespace

Owned Binder::wrap(const Resolved& l, Owned node) const {
  if (l.kind != Resolved::Kind::kPath) return node;
  auto n = std::make_unique<BoundExpr>();
  n->kind = BoundExpr::Kind::kRelated;
  n->collection = &collection_;
  n->relation = l.relation;
  n->target = l.target;
  n->inner = std::move(node);
  return n;
}

Result<Owned> Binder::bind_bare(const ParsedExpr& e, bool negate) const {
  auto l = resolve(e.lhs);
  if (!l) return std::move(l).error();
  if (l->is_literal()) {
    if (const bool* b = std::get_if<bool>(&e.lhs.literal)) return make_const(*b != negate);
    return bad_request_at("expected a condition but found " + l->describe(), e.lhs.span.offset);
  }
  if (!is_column(*l)) {
    return bad_request_at("expected a comparison with " + l->describe() + " (like " + l->describe() + " = ...)",
                          e.lhs.span.offset);
  }
  if (l->category != names::Category::kBool) {
    return bad_request_at(l->describe() + " is not a condition: only a bool field may stand alone (compare it: " +
                              e.lhs.name + " = ...)",
                          e.lhs.span.offset);
  }
  BoundOperand yes;
  yes.value = true;
  return wrap(*l, make_compare(scope(*l), ParsedOp::kEq, l->operand(), std::move(yes), negate));
}

std::optional<Problem> Binder::guarded_relation(const Resolved& r, const Resolved* other, ParsedOp op) const {
  if (options_.admin || options_.purpose != Purpose::kFilter || r.kind != Resolved::Kind::kColumn) return std::nullopt;
  const model::Field* f = r.column.field;
  if (!f || f->type != model::FieldType::kRelation) return std::nullopt;
  const model::Collection* target = names::find_collection(concept_, f->to);
  if (!target || names::visible_to_everyone(*target)) return std::nullopt;
  if (other && other->kind == Resolved::Kind::kAuthId && (op == ParsedOp::kEq || op == ParsedOp::kNe)) return std::nullopt;
  const std::size_t pos = r.src ? r.src->span.offset : 0;
  return bad_request_at("'" + f->name + "' names records of '" + f->to +
                            "' that not everyone may view: compare it only with @auth.id, or filter through the "
                            "relation (like " + f->name + ".id = '...'), which applies their view rule",
                        pos);
}

Result<Owned> Binder::bind_compare(const ParsedExpr& e, bool negate) const {
  for (const ParsedOperand* o : {&e.lhs, &e.rhs})
    if (o->kind == ParsedOperand::Kind::kMacro && o->name == "auth.aal") return bind_aal(e, negate);
  auto l = resolve(e.lhs);
  if (!l) return std::move(l).error();
  auto r = resolve(e.rhs);
  if (!r) {
    if (auto hint = unquoted_word_hint(*l, e.rhs, r.error().detail)) return bad_request_at(*hint, e.rhs.span.offset);
    return std::move(r).error();
  }
  ParsedOp op = e.op;
  const bool like = op == ParsedOp::kLike || op == ParsedOp::kNotLike;
  if (!like) {  // `~` on a relation is refused by its type below, with a better message
    if (auto p = guarded_relation(*l, &*r, op)) return std::move(*p);
    if (auto p = guarded_relation(*r, &*l, op)) return std::move(*p);
  }
  if (l->is_literal() && r->is_literal()) {
    return bad_request_at("a comparison needs a field or an @-value on one side", e.lhs.span.offset);
  }
  if (l->is_literal()) {
    if (like) return bad_request_at("the pattern of '" + std::string(op_text(op)) + "' goes on the right (field ~ 'text')",
                                    e.lhs.span.offset);
    return bind_with_value(*r, flip(op), *l, e, negate);
  }
  if (r->is_literal()) return bind_with_value(*l, op, *r, e, negate);
  return bind_pair(*l, op, *r, e, negate);
}

Result<Owned> Binder::bind_with_value(const Resolved& l, ParsedOp op, const Resolved& r, const ParsedExpr& e,
                                      bool negate) const {
  const ParsedOperand& lit = *r.src;
  const std::size_t lpos = l.src->span.offset;
  if (lit.is_null_literal()) {
    if (op != ParsedOp::kEq && op != ParsedOp::kNe) {
      return bad_request_at("null can only be compared with = or != (found '" + std::string(op_text(op)) + "')",
                            e.op_span.offset);
    }
    return wrap(l, make_is_null(scope(l), l.operand(), (op == ParsedOp::kNe) != negate));
  }
  if (op == ParsedOp::kLike || op == ParsedOp::kNotLike) {
    if (!is_column(l) || !l.column.field || !names::is_text_like(l.column.field->type)) {
      return bad_request_at("cannot use '" + std::string(op_text(op)) + "' on " + l.describe() +
                                " (only on text, email, url and enum fields)",
                            lpos);
    }
    if (!lit.is_string()) {
      return bad_request_at("'" + std::string(op_text(op)) + "' needs a string, not " + r.describe(),
                            lit.span.offset);
    }
    const bool neg = (op == ParsedOp::kNotLike) != negate;
    return wrap(l, make_like(scope(l), l.operand(), like_pattern(lit.raw), neg));
  }
  if (is_ordering(op) && (l.category == names::Category::kBool || l.category == names::Category::kJson)) {
    return bad_request_at("cannot use '" + std::string(op_text(op)) + "' on " + l.describe(), e.op_span.offset);
  }
  auto v = convert(l, lit);
  if (!v) return std::move(v).error();
  BoundOperand value;
  value.value = std::move(*v);
  return wrap(l, make_compare(scope(l), op, l.operand(), std::move(value), negate));
}

Result<Owned> Binder::bind_pair(const Resolved& l, ParsedOp op, const Resolved& r, const ParsedExpr& e,
                                bool negate) const {
  // A path's comparison runs inside the subquery over the target: the other side must not name an outer column.
  for (const Resolved* p : {&l, &r}) {
    if (p->kind == Resolved::Kind::kPath && is_column(p == &l ? r : l)) {
      return bad_request_at("a relation path can only be compared with a value", p->src->span.offset);
    }
  }
  const std::size_t rpos = r.src->span.offset;
  if (op == ParsedOp::kLike || op == ParsedOp::kNotLike) {
    return bad_request_at("'" + std::string(op_text(op)) + "' needs a string, not " + r.describe(), rpos);
  }
  const bool compatible = is_column(l) && is_column(r)   ? l.category == r.category
                          : is_column(l)                 ? macro_accepts(r, l)
                          : is_column(r)                 ? macro_accepts(l, r)
                                                         : l.category == r.category;
  if (!compatible || l.category == names::Category::kJson) {
    return bad_request_at("cannot compare " + l.describe() + " with " + r.describe(), rpos);
  }
  if (is_ordering(op) && l.category == names::Category::kBool) {
    return bad_request_at("cannot use '" + std::string(op_text(op)) + "' on " + l.describe(), e.op_span.offset);
  }
  if (r.kind == Resolved::Kind::kPath) return wrap(r, make_compare(scope(r), flip(op), r.operand(), l.operand(), negate));
  return wrap(l, make_compare(scope(l), op, l.operand(), r.operand(), negate));
}

Result<Owned> Binder::bind_in(const ParsedExpr& e, bool negate) const {
  auto l = resolve(e.lhs);
  if (!l) return std::move(l).error();
  if (auto p = guarded_relation(*l, nullptr, ParsedOp::kEq)) return std::move(*p);
  if (l->is_literal()) {
    return bad_request_at("the left side of 'in' must be a field or an @-value", e.lhs.span.offset);
  }
  if (l->category == names::Category::kJson) {
    return bad_request_at("cannot use 'in' on " + l->describe(), e.op_span.offset);
  }
  std::vector<Value> items;
  items.reserve(e.items.size());
  for (const ParsedOperand& item : e.items) {
    if (item.is_null_literal()) {
      return bad_request_at("null is not allowed in an 'in' list (use = null)", item.span.offset);
    }
    auto v = convert(*l, item);
    if (!v) return std::move(v).error();
    items.push_back(std::move(*v));
  }
  return wrap(*l, make_in(scope(*l), l->operand(), std::move(items), negate));
}

}  // namespace slipway::expr::detail
