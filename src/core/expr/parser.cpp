// Recursive descent over the token list. Recursion happens only at '(' and '!', each of which counts against
// Limits::max_depth before recursing, so hostile input like 100k '(' fails cleanly instead of exhausting the stack.
#include "core/expr/expr.h"

#include "core/expr/errors.h"
#include "core/expr/lexer.h"
#include "core/expr/parsed_expr.h"

namespace slipway::expr {
namespace {

using Node = std::unique_ptr<ParsedExpr>;

bool is_comparison(TokenKind k) {
  switch (k) {
    case TokenKind::kEq:
    case TokenKind::kNe:
    case TokenKind::kLt:
    case TokenKind::kLe:
    case TokenKind::kGt:
    case TokenKind::kGe:
    case TokenKind::kLike:
    case TokenKind::kNotLike: return true;
    default: return false;
  }
}

ParsedOp to_op(TokenKind k) {
  switch (k) {
    case TokenKind::kNe: return ParsedOp::kNe;
    case TokenKind::kLt: return ParsedOp::kLt;
    case TokenKind::kLe: return ParsedOp::kLe;
    case TokenKind::kGt: return ParsedOp::kGt;
    case TokenKind::kGe: return ParsedOp::kGe;
    case TokenKind::kLike: return ParsedOp::kLike;
    case TokenKind::kNotLike: return ParsedOp::kNotLike;
    default: return ParsedOp::kEq;
  }
}

bool is_literal(TokenKind k) {
  return k == TokenKind::kString || k == TokenKind::kInt || k == TokenKind::kFloat || k == TokenKind::kTrue ||
         k == TokenKind::kFalse || k == TokenKind::kNull;
}

SourceSpan join(SourceSpan a, SourceSpan b) {
  return SourceSpan{a.offset, b.offset + b.length - a.offset};
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const Limits& limits) : t_(std::move(tokens)), limits_(limits) {}

  Result<Node> run() {
    auto e = parse_or();
    if (!e) return e;
    if (cur().kind != TokenKind::kEnd) return unexpected("'&&', '||' or end of expression");
    return e;
  }

 private:
  const Token& cur() const { return t_[i_]; }
  const Token& at(std::size_t ahead) const { return t_[std::min(i_ + ahead, t_.size() - 1)]; }
  const Token& take() { return t_[i_ < t_.size() - 1 ? i_++ : i_]; }

  Problem unexpected(const std::string& expected) const {
    return bad_request_at("expected " + expected + " but found " + describe(cur()), cur().span.offset);
  }

  Result<void> enter(const Token& t) {
    if (++depth_ > limits_.max_depth) {
      return bad_request_at("expression nested too deeply (max depth " + std::to_string(limits_.max_depth) + ")",
                            t.span.offset);
    }
    return {};
  }

  Result<Node> parse_chain(ParsedExpr::Kind kind, TokenKind op) {
    auto first = kind == ParsedExpr::Kind::kOr ? parse_chain(ParsedExpr::Kind::kAnd, TokenKind::kAnd) : parse_unary();
    if (!first || cur().kind != op) return first;
    auto node = std::make_unique<ParsedExpr>();
    node->kind = kind;
    node->children.push_back(std::move(*first));
    while (cur().kind == op) {
      take();
      auto next = kind == ParsedExpr::Kind::kOr ? parse_chain(ParsedExpr::Kind::kAnd, TokenKind::kAnd) : parse_unary();
      if (!next) return next;
      node->children.push_back(std::move(*next));
    }
    node->span = join(node->children.front()->span, node->children.back()->span);
    return node;
  }

  Result<Node> parse_or() { return parse_chain(ParsedExpr::Kind::kOr, TokenKind::kOr); }

  Result<Node> parse_unary() {
    if (cur().kind != TokenKind::kNot) return parse_primary();
    const Token& bang = take();
    if (auto ok = enter(bang); !ok) return std::move(ok).error();
    // `!` binds tighter than comparison, so `!a = 1` would mean `(!a) = 1`: reject it with the fix instead.
    if (cur().kind != TokenKind::kNot && cur().kind != TokenKind::kLParen &&
        (is_comparison(at(1).kind) || at(1).kind == TokenKind::kIn)) {
      return bad_request_at("'!' applies to a parenthesised expression or a bool field: write !( ... )",
                            bang.span.offset);
    }
    auto inner = parse_unary();
    if (!inner) return inner;
    --depth_;
    auto node = std::make_unique<ParsedExpr>();
    node->kind = ParsedExpr::Kind::kNot;
    node->span = join(bang.span, (*inner)->span);
    node->children.push_back(std::move(*inner));
    return node;
  }

  Result<Node> parse_primary() {
    if (cur().kind == TokenKind::kLParen) {
      const Token& open = take();
      if (auto ok = enter(open); !ok) return std::move(ok).error();
      auto inner = parse_or();
      if (!inner) return inner;
      if (cur().kind != TokenKind::kRParen) return unexpected("')' or '&&' or '||'");
      const Token& close = take();
      --depth_;
      (*inner)->span = join(open.span, close.span);
      return inner;
    }
    return parse_term();
  }

  Result<ParsedOperand> parse_operand() {
    const Token& t = cur();
    ParsedOperand o;
    o.span = t.span;
    switch (t.kind) {
      case TokenKind::kIdent:
        o.kind = ParsedOperand::Kind::kField;
        o.name = t.text;
        break;
      case TokenKind::kMacro:
        o.kind = ParsedOperand::Kind::kMacro;
        o.name = t.text;
        break;
      case TokenKind::kString:
        o.literal = t.text;
        o.raw = t.raw;
        break;
      case TokenKind::kInt: o.literal = t.int_value; break;
      case TokenKind::kFloat: o.literal = t.float_value; break;
      case TokenKind::kTrue: o.literal = true; break;
      case TokenKind::kFalse: o.literal = false; break;
      case TokenKind::kNull: o.literal = Null{}; break;
      default: return unexpected("a field, a value or '('");
    }
    take();
    return o;
  }

  Result<Node> parse_term() {
    const Token& start = cur();
    if (++terms_ > limits_.max_terms) {
      return bad_request_at("too many conditions (max " + std::to_string(limits_.max_terms) + ")",
                            start.span.offset);
    }
    auto lhs = parse_operand();
    if (!lhs) return std::move(lhs).error();
    auto node = std::make_unique<ParsedExpr>();
    node->lhs = std::move(*lhs);
    node->span = node->lhs.span;
    if (is_comparison(cur().kind)) {
      const Token& op = take();
      node->kind = ParsedExpr::Kind::kCompare;
      node->op = to_op(op.kind);
      node->op_span = op.span;
      auto rhs = parse_operand();
      if (!rhs) return std::move(rhs).error();
      node->rhs = std::move(*rhs);
      node->span = join(node->lhs.span, node->rhs.span);
      return node;
    }
    if (cur().kind == TokenKind::kIn) return parse_in(std::move(node));
    node->kind = ParsedExpr::Kind::kBare;
    return node;
  }

  Result<Node> parse_in(Node node) {
    node->op_span = take().span;
    if (cur().kind == TokenKind::kMacro) {  // 'editor' in @auth.roles: the binder checks both sides
      node->kind = ParsedExpr::Kind::kMember;
      auto rhs = parse_operand();
      if (!rhs) return std::move(rhs).error();
      node->rhs = std::move(*rhs);
      node->span = join(node->lhs.span, node->rhs.span);
      return node;
    }
    node->kind = ParsedExpr::Kind::kIn;
    if (cur().kind != TokenKind::kLParen) return unexpected("'(' or @auth.roles after 'in'");
    take();
    if (cur().kind == TokenKind::kRParen) {
      return bad_request_at("'in' needs at least one value", cur().span.offset);
    }
    for (;;) {
      if (cur().kind == TokenKind::kIdent && cur().text.find('.') == std::string::npos) {
        // `status in (open, done)`: the words were meant as values (a list holds values only).
        return bad_request_at("expected a value in the 'in' list but found field '" + cur().text +
                                  "' (if you meant the value, quote it: '" + cur().text + "')",
                              cur().span.offset);
      }
      if (!is_literal(cur().kind)) return unexpected("a value in the 'in' list");
      if (static_cast<int>(node->items.size()) >= limits_.max_in_items) {
        return bad_request_at("too many values in 'in' (max " + std::to_string(limits_.max_in_items) + ")",
                              cur().span.offset);
      }
      auto item = parse_operand();
      if (!item) return std::move(item).error();
      node->items.push_back(std::move(*item));
      if (cur().kind == TokenKind::kComma) {
        take();
        continue;
      }
      if (cur().kind != TokenKind::kRParen) return unexpected("',' or ')' in the 'in' list");
      node->span = join(node->lhs.span, take().span);
      return node;
    }
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
  const Limits& limits_;
  int depth_ = 0;
  int terms_ = 0;
};

}  // namespace

Result<std::unique_ptr<ParsedExpr>> parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_length) {
    return bad_request_at("expression too long (" + std::to_string(text.size()) + " bytes, max " +
                              std::to_string(limits.max_length) + ")",
                          limits.max_length);
  }
  auto tokens = tokenize(text);
  if (!tokens) return std::move(tokens).error();
  if (tokens->front().kind == TokenKind::kEnd) return bad_request_at("empty expression", 0);
  return Parser(std::move(*tokens), limits).run();
}

}  // namespace slipway::expr
