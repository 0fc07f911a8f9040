// Name resolution and literal typing for the binder.
#include "core/expr/binder.h"

#include "core/clock.h"
#include "core/expr/errors.h"

namespace slipway::expr::detail {
namespace {

const char* literal_kind(const Value& v) {
  if (std::holds_alternative<Null>(v)) return "null";
  if (std::holds_alternative<bool>(v)) return "a bool";
  if (std::holds_alternative<std::string>(v)) return "a string";
  return "a number";
}

}  // namespace

std::string Resolved::describe() const {
  switch (kind) {
    case Kind::kColumn: return std::string(column.type) + " field '" + column.name + "'";
    case Kind::kPath: return std::string(column.type) + " field '" + relation->name + "." + column.name + "'";
    case Kind::kAuthId: return "@auth.id";
    case Kind::kNow: return "@now";
    case Kind::kLiteral: return literal_kind(src->literal);
  }
  return "?";
}

BoundOperand Resolved::operand() const {
  BoundOperand o;
  switch (kind) {
    case Kind::kColumn:
    case Kind::kPath:
      o.kind = BoundOperand::Kind::kColumn;
      o.column = column.name;
      o.field = column.field;
      break;
    case Kind::kAuthId: o.kind = BoundOperand::Kind::kAuthId; break;
    case Kind::kNow: o.kind = BoundOperand::Kind::kNow; break;
    case Kind::kLiteral: o.value = src->literal; break;
  }
  return o;
}

Result<Resolved> Binder::resolve(const ParsedOperand& o) const {
  switch (o.kind) {
    case ParsedOperand::Kind::kField: return resolve_field(o);
    case ParsedOperand::Kind::kMacro: return resolve_macro(o);
    case ParsedOperand::Kind::kLiteral: break;
  }
  Resolved r;
  r.src = &o;
  return r;
}

Result<Resolved> Binder::resolve_macro(const ParsedOperand& o) const {
  Resolved r;
  r.src = &o;
  if (o.name == "now") {
    r.kind = Resolved::Kind::kNow;
    r.category = names::Category::kDatetime;
  } else if (o.name == "auth.id") {
    r.kind = Resolved::Kind::kAuthId;
  } else if (o.name == "auth.role") {  // single-valued; a caller now holds a set of roles
    return bad_request_at("@auth.role is gone: test membership with 'editor' in @auth.roles", o.span.offset);
  } else if (o.name == "auth.roles") {
    return bad_request_at("@auth.roles is a set of roles, not a value: test membership with 'editor' in @auth.roles",
                          o.span.offset);
  } else if (o.name == "auth.aal") {  // only in a comparison with a number (Binder::bind_aal)
    return bad_request_at("@auth.aal is the caller's assurance level: compare it with a number, like @auth.aal >= 2",
                          o.span.offset);
  } else if (o.name == "request" || o.name.starts_with("request.")) {
    return bad_request_at("@request is not supported yet", o.span.offset);
  } else {
    return bad_request_at("unknown '@" + o.name + "' (expected @now, @auth.id, @auth.roles or @auth.aal)", o.span.offset);
  }
  return r;
}

Result<Resolved> Binder::resolve_field(const ParsedOperand& o) const {
  Resolved r;
  r.src = &o;
  const std::size_t dot = o.name.find('.');
  const std::string_view head = std::string_view(o.name).substr(0, dot);
  auto col = names::lookup(collection_, head, allow_hidden());
  if (!col) return bad_request_at(names::unknown_field(collection_, head, allow_hidden()), o.span.offset);
  if (dot == std::string::npos) {
    r.kind = Resolved::Kind::kColumn;
    r.category = col->category;
    r.column = std::move(*col);
    return r;
  }
  if (const std::size_t second = o.name.find('.', dot + 1); second != std::string::npos) {
    return bad_request_at("a relation path has one level (like author.name)", o.span.offset + second);
  }
  if (!col->field || col->field->type != model::FieldType::kRelation) {
    return bad_request_at("'" + col->name + "' is not a relation field, so '" + o.name + "' is not a path",
                          o.span.offset);
  }
  const model::Collection* target = names::find_collection(concept_, col->field->to);
  if (!target) {
    return bad_request_at("relation '" + col->name + "' points to unknown collection '" + col->field->to + "'",
                          o.span.offset);
  }
  const std::string_view tail = std::string_view(o.name).substr(dot + 1);
  auto tcol = names::lookup(*target, tail, allow_hidden());
  if (!tcol) {
    return bad_request_at(names::unknown_field(*target, tail, allow_hidden(), true), o.span.offset + dot + 1);
  }
  r.kind = Resolved::Kind::kPath;
  r.relation = col->field;
  r.target = target;
  r.category = tcol->category;
  r.column = std::move(*tcol);
  return r;
}

Result<Value> Binder::convert(const Resolved& l, const ParsedOperand& lit) const {
  const std::size_t pos = lit.span.offset;
  auto mismatch = [&]() {
    return bad_request_at("cannot compare " + l.describe() + " with " + literal_kind(lit.literal), pos);
  };
  const model::Field* f = (l.kind == Resolved::Kind::kColumn || l.kind == Resolved::Kind::kPath) ? l.column.field
                                                                                                   : nullptr;
  switch (l.category) {
    case names::Category::kNumber:
      if (const auto* i = std::get_if<std::int64_t>(&lit.literal)) {
        if (f && f->type == model::FieldType::kFloat) return Value(static_cast<double>(*i));
        return Value(*i);
      }
      if (std::holds_alternative<double>(lit.literal)) return lit.literal;
      return mismatch();
    case names::Category::kBool:
      if (std::holds_alternative<bool>(lit.literal)) return lit.literal;
      return mismatch();
    case names::Category::kString: {
      const auto* s = std::get_if<std::string>(&lit.literal);
      if (!s) return mismatch();
      if (f && f->type == model::FieldType::kEnum) {
        bool found = false;
        std::string allowed;
        for (const std::string& v : f->values) {
          found = found || v == *s;
          allowed += (allowed.empty() ? "" : ", ") + v;
        }
        if (!found) {
          return bad_request_at("'" + *s + "' is not a value of " + l.describe() + " (expected one of: " + allowed + ")",
                                pos);
        }
      }
      return lit.literal;
    }
    case names::Category::kDatetime: {
      const auto* s = std::get_if<std::string>(&lit.literal);
      if (!s) return mismatch();
      std::int64_t ms = 0;
      if (!parse_rfc3339(*s, ms)) {
        return bad_request_at("invalid datetime '" + *s + "' for " + l.describe() +
                                  " (expected RFC 3339 in years 0001-9999 UTC, like 2026-01-31 or 2026-01-31T12:00:00Z)",
                              pos);
      }
      return Value(format_rfc3339_ms(ms));
    }
    case names::Category::kJson:
      return bad_request_at("cannot compare " + l.describe() + " with " + literal_kind(lit.literal) +
                                " (a json field can only be compared with null)",
                            pos);
  }
  return mismatch();
}

}  // namespace slipway::expr::detail
