#include "core/expr/lexer.h"

#include "core/utf8.h"

#include <charconv>
#include <cmath>
#include <optional>

#include "core/expr/errors.h"

namespace slipway::expr {
namespace {

bool is_ident_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The character at `i` for an error message: one whole UTF-8 sequence, or a \xNN escape for control bytes.
std::string char_at(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x20 || c == 0x7F) {
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("\\x") + kHex[c >> 4] + kHex[c & 0xF];
  }
  std::size_t len = 1;
  if (c >= 0xF0) len = 4;
  else if (c >= 0xE0) len = 3;
  else if (c >= 0xC0) len = 2;
  return std::string(text.substr(i, len));
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    for (;;) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      Token t;
      t.span.offset = static_cast<std::uint32_t>(pos_);
      if (pos_ >= text_.size()) {
        t.kind = TokenKind::kEnd;
        out.push_back(std::move(t));
        return out;
      }
      if (auto err = next(t)) return std::move(*err);
      t.span.length = static_cast<std::uint32_t>(pos_ - t.span.offset);
      out.push_back(std::move(t));
    }
  }

 private:
  using Error = std::optional<Problem>;

  char peek(std::size_t ahead = 0) const { return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0'; }
  bool at_end(std::size_t ahead = 0) const { return pos_ + ahead >= text_.size(); }

  Error next(Token& t) {
    const char c = peek();
    const std::size_t start = pos_;
    auto one = [&](TokenKind k, std::size_t len) -> Error {
      t.kind = k;
      pos_ += len;
      return std::nullopt;
    };
    switch (c) {
      case '(': return one(TokenKind::kLParen, 1);
      case ')': return one(TokenKind::kRParen, 1);
      case ',': return one(TokenKind::kComma, 1);
      case '~': return one(TokenKind::kLike, 1);
      case '=':
        if (peek(1) == '=') return bad_request_at("unexpected '==' (use '=' to compare)", start);
        return one(TokenKind::kEq, 1);
      case '!':
        if (peek(1) == '=') return one(TokenKind::kNe, 2);
        if (peek(1) == '~') return one(TokenKind::kNotLike, 2);
        return one(TokenKind::kNot, 1);
      case '<': return peek(1) == '=' ? one(TokenKind::kLe, 2) : one(TokenKind::kLt, 1);
      case '>': return peek(1) == '=' ? one(TokenKind::kGe, 2) : one(TokenKind::kGt, 1);
      case '&':
        if (peek(1) == '&') return one(TokenKind::kAnd, 2);
        return bad_request_at("unexpected '&' (use '&&' for and)", start);
      case '|':
        if (peek(1) == '|') return one(TokenKind::kOr, 2);
        return bad_request_at("unexpected '|' (use '||' for or)", start);
      case '\'':
      case '"': return string_literal(t);
      case '@': return macro(t);
      default: break;
    }
    if (is_digit(c) || (c == '-' && is_digit(peek(1)))) return number(t);
    if (is_ident_start(c)) return identifier(t);
    if (c == '\0') return bad_request_at("NUL byte not allowed in an expression", start);
    return bad_request_at("unexpected character '" + char_at(text_, start) + "'", start);
  }

  // name(.name)*: returns the end of the path or an error at a dangling '.'.
  Error path(std::string& out) {
    while (!at_end() && is_ident_char(peek())) out.push_back(text_[pos_++]);
    while (peek() == '.') {
      if (!is_ident_start(peek(1))) return bad_request_at("expected a name after '.'", pos_ + 1);
      out.push_back(text_[pos_++]);
      while (!at_end() && is_ident_char(peek())) out.push_back(text_[pos_++]);
    }
    return std::nullopt;
  }

  Error identifier(Token& t) {
    if (auto err = path(t.text)) return err;
    if (t.text == "true") t.kind = TokenKind::kTrue;
    else if (t.text == "false") t.kind = TokenKind::kFalse;
    else if (t.text == "null") t.kind = TokenKind::kNull;
    else if (t.text == "in") t.kind = TokenKind::kIn;
    else t.kind = TokenKind::kIdent;
    return std::nullopt;
  }

  Error macro(Token& t) {
    const std::size_t start = pos_;
    ++pos_;  // '@'
    if (!is_ident_start(peek())) return bad_request_at("expected a name after '@' (@now, @auth.id, @auth.roles)", start);
    t.kind = TokenKind::kMacro;
    return path(t.text);
  }

  Error number(Token& t) {
    const std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    while (is_digit(peek())) ++pos_;
    bool is_float = false;
    if (peek() == '.') {
      if (!is_digit(peek(1))) return bad_request_at("invalid number: expected a digit after '.'", pos_ + 1);
      is_float = true;
      ++pos_;
      while (is_digit(peek())) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t k = 1;
      if (peek(k) == '+' || peek(k) == '-') ++k;
      if (!is_digit(peek(k))) return bad_request_at("invalid number: expected digits in the exponent", pos_);
      is_float = true;
      pos_ += k;
      while (is_digit(peek())) ++pos_;
    }
    if (is_ident_char(peek()) || peek() == '.') {
      return bad_request_at("invalid number '" + std::string(text_.substr(start, pos_ - start + 1)) + "'", start);
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (is_float) {
      double v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || ptr != last || !std::isfinite(v)) {
        return bad_request_at("number out of range: " + std::string(first, last), start);
      }
      t.kind = TokenKind::kFloat;
      t.float_value = v;
    } else {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || ptr != last) {
        return bad_request_at("integer out of range (64-bit): " + std::string(first, last), start);
      }
      t.kind = TokenKind::kInt;
      t.int_value = v;
    }
    return std::nullopt;
  }

  Error string_literal(Token& t) {
    const std::size_t start = pos_;
    const char quote = text_[pos_++];
    t.kind = TokenKind::kString;
    for (;;) {
      if (at_end()) return bad_request_at("unterminated string (missing closing " + std::string(1, quote) + ")", start);
      const char c = text_[pos_];
      if (c == quote) {
        ++pos_;
        return std::nullopt;
      }
      if (c == '\0') return bad_request_at("NUL byte not allowed in an expression", pos_);
      if (c == '\\') {
        const char e = peek(1);
        if (e != '\\' && e != '\'' && e != '"' && e != '%' && e != '_') {
          const std::string shown = at_end(1) ? std::string() : char_at(text_, pos_ + 1);
          return bad_request_at("invalid escape '\\" + shown + "' (allowed: \\\\ \\' \\\" \\% \\_)", pos_);
        }
        t.raw.push_back(c);
        t.raw.push_back(e);
        t.text.push_back(e);
        pos_ += 2;
        continue;
      }
      t.raw.push_back(c);
      t.text.push_back(c);
      ++pos_;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kEnd: return "end of expression";
    case TokenKind::kIdent: return "field '" + t.text + "'";
    case TokenKind::kMacro: return "'@" + t.text + "'";
    case TokenKind::kString: return "a string";
    case TokenKind::kInt:
    case TokenKind::kFloat: return "a number";
    case TokenKind::kTrue: return "'true'";
    case TokenKind::kFalse: return "'false'";
    case TokenKind::kNull: return "'null'";
    case TokenKind::kIn: return "'in'";
    case TokenKind::kEq: return "'='";
    case TokenKind::kNe: return "'!='";
    case TokenKind::kLt: return "'<'";
    case TokenKind::kLe: return "'<='";
    case TokenKind::kGt: return "'>'";
    case TokenKind::kGe: return "'>='";
    case TokenKind::kLike: return "'~'";
    case TokenKind::kNotLike: return "'!~'";
    case TokenKind::kAnd: return "'&&'";
    case TokenKind::kOr: return "'||'";
    case TokenKind::kNot: return "'!'";
    case TokenKind::kLParen: return "'('";
    case TokenKind::kRParen: return "')'";
    case TokenKind::kComma: return "','";
  }
  return "token";
}

Result<std::vector<Token>> tokenize(std::string_view text) {
  if (const std::size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    return bad_request_at("invalid UTF-8 in expression", static_cast<std::size_t>(bad));
  }
  return Lexer(text).run();
}

}  // namespace slipway::expr
