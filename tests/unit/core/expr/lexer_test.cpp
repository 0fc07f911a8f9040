#include "core/expr/lexer.h"

#include <gtest/gtest.h>

namespace slipway::expr {
namespace {

std::vector<TokenKind> kinds(std::string_view text) {
  auto t = tokenize(text);
  EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().detail);
  std::vector<TokenKind> out;
  if (t) {
    for (const Token& tok : *t) out.push_back(tok.kind);
  }
  return out;
}

Problem lex_error(std::string_view text) {
  auto t = tokenize(text);
  EXPECT_FALSE(t.has_value()) << text;
  return t ? Problem{} : t.error();
}

TEST(ExprLexer, SplitsOperatorsGreedily) {
  using K = TokenKind;
  EXPECT_EQ(kinds("= != < <= > >= ~ !~ && || ! ( ) ,"),
            (std::vector<K>{K::kEq, K::kNe, K::kLt, K::kLe, K::kGt, K::kGe, K::kLike, K::kNotLike, K::kAnd, K::kOr,
                            K::kNot, K::kLParen, K::kRParen, K::kComma, K::kEnd}));
  EXPECT_EQ(kinds("a!=b"), (std::vector<K>{K::kIdent, K::kNe, K::kIdent, K::kEnd}));
}

TEST(ExprLexer, ReadsKeywordsIdentifiersPathsAndMacros) {
  auto t = tokenize("true false null in author.name @auth.id _x9");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[0].kind, TokenKind::kTrue);
  EXPECT_EQ((*t)[1].kind, TokenKind::kFalse);
  EXPECT_EQ((*t)[2].kind, TokenKind::kNull);
  EXPECT_EQ((*t)[3].kind, TokenKind::kIn);
  EXPECT_EQ((*t)[4].kind, TokenKind::kIdent);
  EXPECT_EQ((*t)[4].text, "author.name");
  EXPECT_EQ((*t)[4].span.offset, 19u);
  EXPECT_EQ((*t)[4].span.length, 11u);
  EXPECT_EQ((*t)[5].kind, TokenKind::kMacro);
  EXPECT_EQ((*t)[5].text, "auth.id");
  EXPECT_EQ((*t)[6].text, "_x9");
}

TEST(ExprLexer, DecodesStringEscapesAndKeepsRawBody) {
  auto t = tokenize(R"('it\'s \\ \"q\" 50\% a\_b' "dq'")");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[0].text, R"(it's \ "q" 50% a_b)");
  EXPECT_EQ((*t)[0].raw, R"(it\'s \\ \"q\" 50\% a\_b)");
  EXPECT_EQ((*t)[1].text, "dq'");
}

TEST(ExprLexer, ReadsIntegersAndFloats) {
  auto t = tokenize("42 -7 1.5 -2e3 9223372036854775807");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[0].int_value, 42);
  EXPECT_EQ((*t)[1].int_value, -7);
  EXPECT_EQ((*t)[2].kind, TokenKind::kFloat);
  EXPECT_DOUBLE_EQ((*t)[2].float_value, 1.5);
  EXPECT_DOUBLE_EQ((*t)[3].float_value, -2000);
  EXPECT_EQ((*t)[4].int_value, INT64_MAX);
}

TEST(ExprLexer, RejectsIntegerOverflowAtItsPosition) {
  Problem p = lex_error("views > 99999999999999999999");
  EXPECT_EQ(p.code, ProblemCode::kBadRequest);
  EXPECT_EQ(p.position, 8);
  EXPECT_EQ(p.detail, "integer out of range (64-bit): 99999999999999999999");
  EXPECT_EQ(lex_error("x = 1e999").position, 4);
}

TEST(ExprLexer, RejectsMalformedNumbers) {
  EXPECT_EQ(lex_error("x = 12abc").position, 4);
  EXPECT_EQ(lex_error("x = 1.").position, 6);
  EXPECT_EQ(lex_error("x = 1e+").position, 5);
}

TEST(ExprLexer, RejectsUnterminatedStringAtOpeningQuote) {
  Problem p = lex_error("title = 'abc");
  EXPECT_EQ(p.position, 8);
  EXPECT_EQ(p.detail, "unterminated string (missing closing ')");
}

TEST(ExprLexer, RejectsUnknownEscape) {
  Problem p = lex_error(R"(title = 'a\nb')");
  EXPECT_EQ(p.position, 10);
  EXPECT_NE(p.detail.find("invalid escape"), std::string::npos);
}

TEST(ExprLexer, RejectsStrayCharactersWithHints) {
  EXPECT_EQ(lex_error("a = 1 & b = 2").detail, "unexpected '&' (use '&&' for and)");
  EXPECT_EQ(lex_error("a = 1 | b = 2").position, 6);
  EXPECT_EQ(lex_error("a == 1").detail, "unexpected '==' (use '=' to compare)");
  Problem semi = lex_error("a = 1; DROP TABLE posts");
  EXPECT_EQ(semi.position, 5);
  EXPECT_EQ(semi.detail, "unexpected character ';'");
  EXPECT_EQ(lex_error("a = 1 /* c */").position, 6);
  EXPECT_EQ(lex_error("a = 1 -- c").position, 6);
  EXPECT_EQ(lex_error("a.").detail, "expected a name after '.'");
  EXPECT_EQ(lex_error("@").position, 0);
}

TEST(ExprLexer, RejectsInvalidUtf8AtTheFirstBadByte) {
  Problem p = lex_error("title = 'ok\xC3\x28'");
  EXPECT_EQ(p.position, 11);
  EXPECT_EQ(p.detail, "invalid UTF-8 in expression");
  EXPECT_EQ(lex_error("\xED\xA0\x80").position, 0);      // a surrogate
  EXPECT_EQ(lex_error("'\xC0\xAF'").position, 1);        // an overlong '/'
  EXPECT_EQ(lex_error("'abc\xF0\x9F\x98'").position, 4);  // truncated emoji
}

TEST(ExprLexer, RejectsNulBytesEverywhere) {
  using namespace std::string_view_literals;
  EXPECT_EQ(lex_error("a = 1\0"sv).position, 5);
  Problem p = lex_error("title = 'a\0b'"sv);
  EXPECT_EQ(p.position, 10);
  EXPECT_EQ(p.detail, "NUL byte not allowed in an expression");
}

TEST(ExprLexer, AcceptsUnicodeInsideStringsOnly) {
  auto t = tokenize("title = 'café 🚀 שלום'");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[2].text, "café 🚀 שלום");
  Problem p = lex_error("titlé = 'x'");
  EXPECT_EQ(p.position, 4);
  EXPECT_EQ(p.detail, "unexpected character 'é'");
}

TEST(ExprLexer, DescribesTokensForMessages) {
  Token t;
  t.kind = TokenKind::kIdent;
  t.text = "title";
  EXPECT_EQ(describe(t), "field 'title'");
  t.kind = TokenKind::kEnd;
  EXPECT_EQ(describe(t), "end of expression");
}

}  // namespace
}  // namespace slipway::expr
