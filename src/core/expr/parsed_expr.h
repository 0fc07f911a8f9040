// ParsedExpr: the syntax tree of one expression, before any name is resolved. Every node and operand carries
// the SourceSpan of its text, so the binder can point at the exact token it rejects.
// `&&` and `||` chains are n-ary nodes (a flat list of children), so a long chain does not make a deep tree.
// Thread safety: an immutable value once built.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/source_span.h"
#include "core/value.h"

namespace slipway::expr {

// One side of a comparison.
struct ParsedOperand {
  enum class Kind : std::uint8_t {
    kField,    // title, author.name (`name` holds the dotted path)
    kMacro,    // @now, @auth.id, @auth.roles (`name` without the '@')
    kLiteral,  // `literal`: Null, bool, int64, double or string
  };
  Kind kind = Kind::kLiteral;
  std::string name;
  Value literal;
  std::string raw;  // string literals: the body between the quotes, escapes intact (for `~`)
  SourceSpan span;

  bool is_string() const { return kind == Kind::kLiteral && std::holds_alternative<std::string>(literal); }
  bool is_null_literal() const { return kind == Kind::kLiteral && std::holds_alternative<Null>(literal); }
};

enum class ParsedOp : std::uint8_t { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kNotLike };

const char* op_text(ParsedOp op);

struct ParsedExpr {
  enum class Kind : std::uint8_t {
    kAnd,      // children (2 or more)
    kOr,       // children (2 or more)
    kNot,      // children[0]
    kCompare,  // lhs op rhs
    kIn,       // lhs in (items...)
    kMember,   // lhs in rhs, rhs an @-name (the binder accepts only 'role' in @auth.roles)
    kBare,     // lhs alone: a bool field (`published`) or true/false
  };
  Kind kind = Kind::kBare;
  SourceSpan span;  // the whole node's text
  std::vector<std::unique_ptr<ParsedExpr>> children;
  ParsedOp op = ParsedOp::kEq;
  SourceSpan op_span;
  ParsedOperand lhs;
  ParsedOperand rhs;
  std::vector<ParsedOperand> items;
};

// A compact, fully parenthesised rendering for tests and logs: (a = 1 && !(b ~ 'x')).
std::string to_string(const ParsedExpr& e);

}  // namespace slipway::expr
