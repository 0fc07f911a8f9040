// Lexer: expression text → tokens, each with its byte span. Validates UTF-8 and rejects NUL bytes up front, so
// the parser and binder only ever see well-formed text. Strings are decoded here; their raw body (escapes intact)
// is kept too, because `~` gives an escaped `\%` a different meaning than a bare `%`.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/source_span.h"

namespace slipway::expr {

enum class TokenKind : std::uint8_t {
  kEnd,
  kIdent,    // title, author.name (dotted paths are one token)
  kMacro,    // @now, @auth.id, @auth.roles (text without the '@')
  kString,   // 'x' or "x"
  kInt,      // 42, -7
  kFloat,    // 1.5, -2e3
  kTrue,
  kFalse,
  kNull,
  kIn,       // the keyword `in`
  kEq,       // =
  kNe,       // !=
  kLt,       // <
  kLe,       // <=
  kGt,       // >
  kGe,       // >=
  kLike,     // ~
  kNotLike,  // !~
  kAnd,      // &&
  kOr,       // ||
  kNot,      // !
  kLParen,
  kRParen,
  kComma,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  SourceSpan span;
  std::string text;      // identifier/macro name, or the decoded string value
  std::string raw;       // strings only: the body between the quotes, escapes intact
  std::int64_t int_value = 0;
  double float_value = 0;
};

// A readable name for error messages: "'&&'", "identifier 'title'", "end of expression".
std::string describe(const Token& t);

// Splits the whole text into tokens (the last one is kEnd). Errors: Problem{kBadRequest, position}.
Result<std::vector<Token>> tokenize(std::string_view text);


}  // namespace slipway::expr
