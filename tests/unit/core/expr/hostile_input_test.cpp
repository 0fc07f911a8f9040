// Input an attacker might send as ?filter=: it must end in a clean 400 with a position, or bind as plain values.
#include <gtest/gtest.h>

#include <random>

#include "core/expr/bound_expr.h"
#include "core/expr/expr.h"
#include "core/expr/parsed_expr.h"
#include "unit/core/expr/blog_fixture.h"

namespace slipway::expr {
namespace {

Result<std::shared_ptr<const BoundExpr>> filter(std::string_view text, const Limits& limits = {}) {
  return parse_and_bind(text, testing::posts(), testing::blog_concept(), BindOptions{}, limits);
}

int error_position(std::string_view text, const Limits& limits = {}) {
  auto b = filter(text, limits);
  EXPECT_FALSE(b.has_value()) << text.substr(0, 80);
  if (b) return -2;
  EXPECT_EQ(b.error().code, ProblemCode::kBadRequest);
  return b.error().position;
}

TEST(ExprHostileInput, SqlInsideStringsStaysAValue) {
  auto b = filter(R"(title = '"; DROP TABLE posts; --' || title = 'x\' OR 1=1 --')");
  ASSERT_TRUE(b) << b.error().detail;
  EXPECT_EQ((*b)->children[0]->rhs.value, Value(std::string(R"("; DROP TABLE posts; --)")));
  EXPECT_EQ((*b)->children[1]->rhs.value, Value(std::string("x' OR 1=1 --")));
}

TEST(ExprHostileInput, SqlOutsideStringsIsASyntaxError) {
  EXPECT_EQ(error_position("title = 'x'; DROP TABLE posts"), 11);
  EXPECT_EQ(error_position("title = 'x' -- comment"), 12);
  EXPECT_EQ(error_position("title = 'x' /* c */"), 12);
  EXPECT_EQ(error_position("title = 'x' OR 1 = 1"), 12);
  EXPECT_EQ(error_position("title = x'00'"), 9);
  EXPECT_EQ(error_position("\"title\" = 'x'"), 0);  // a quoted name is a string: string = string
}

TEST(ExprHostileInput, UnbalancedQuotes) {
  EXPECT_EQ(error_position("title = 'x"), 8);
  EXPECT_EQ(error_position("title = 'x\\'"), 8);
  EXPECT_EQ(error_position("title = \"x'"), 8);
}

TEST(ExprHostileInput, UnicodeIsDataNotSyntax) {
  auto b = filter("title = 'é 🚀 \u202Eabc' && body ~ 'ümlaut'");
  ASSERT_TRUE(b) << b.error().detail;
  EXPECT_EQ(error_position("title = 'x' && tïtle = 'y'"), 16);
  EXPECT_EQ(error_position("title = 'x' \u202E&& 1"), 12);  // RTL override outside a string
}

TEST(ExprHostileInput, NulBytesAndInvalidUtf8) {
  using namespace std::string_view_literals;
  EXPECT_EQ(error_position("title = 'a\0'"sv), 10);
  EXPECT_EQ(error_position("\0"sv), 0);
  EXPECT_EQ(error_position("title = '\xFF'"), 9);
  EXPECT_EQ(error_position("title = '\xC3'"), 9);
}

TEST(ExprHostileInput, DeepNestingFailsAtTheLimit) {
  Limits big;
  big.max_length = 1 << 20;
  const std::string parens = std::string(10000, '(') + "views = 1" + std::string(10000, ')');
  EXPECT_EQ(error_position(parens, big), 32);
  const std::string nots = std::string(10000, '!') + "published";
  EXPECT_EQ(error_position(nots, big), 32);
  // At the limit it binds.
  const std::string ok = std::string(32, '(') + "views = 1" + std::string(32, ')');
  EXPECT_TRUE(filter(ok));
}

TEST(ExprHostileInput, HundredKilobytesIsTooLong) {
  const std::string huge = "title = '" + std::string(100 * 1024, 'a') + "'";
  auto b = filter(huge);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().position, 4096);
  EXPECT_EQ(b.error().detail, "expression too long (102410 bytes, max 4096)");
}

TEST(ExprHostileInput, HugeNumbers) {
  EXPECT_EQ(error_position("views > 99999999999999999999"), 8);
  EXPECT_EQ(error_position("views > -99999999999999999999"), 8);
  EXPECT_EQ(error_position("score > 1e400"), 8);
  EXPECT_TRUE(filter("views > -9223372036854775808"));
}

TEST(ExprHostileInput, ThousandItemInList) {
  std::string list = "views in (";
  for (int i = 0; i < 1000; ++i) list += (i ? "," : "") + std::to_string(i);
  list += ")";
  auto b = filter(list);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().detail, "too many values in 'in' (max 100)");
  Limits wide;
  wide.max_in_items = 1000;
  auto ok = filter(list, wide);
  ASSERT_TRUE(ok) << ok.error().detail;
  EXPECT_EQ((*ok)->items.size(), 1000u);
}

TEST(ExprHostileInput, ManyConditionsHitTheTermLimit) {
  std::string many;
  for (int i = 0; i < 100; ++i) many += (i ? " || " : "") + std::string("views = 1");
  Limits big;
  big.max_length = 1 << 20;
  EXPECT_EQ(error_position(many, big), 64 * 13);
}

TEST(ExprHostileInput, RandomTokenSoupEndsInAValueOrAPositionedError) {
  const char* pieces[] = {"title", "views", "author.name", "author.", "secret", "@auth.id", "@now", "@request",
                          "=",     "!=",    "<",           ">=",      "~",      "!~",       "&&",   "||",
                          "!",     "(",     ")",           ",",       "in",     "null",     "true", "'x'",
                          "'%_\\\\'", "\"", "'", "1",      "-2.5",    "1e999",  "é",        "\xFF", "  ",
                          "@auth.roles", "'editor'", "'edtor'"};
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(pieces) - 1);
  std::uniform_int_distribution<int> len(1, 12);
  for (int i = 0; i < 5000; ++i) {
    std::string text;
    for (int n = len(rng); n > 0; --n) text += std::string(pieces[pick(rng)]) + (rng() % 2 ? " " : "");
    auto b = filter(text);
    if (!b) {
      EXPECT_EQ(b.error().code, ProblemCode::kBadRequest) << text;
      EXPECT_GE(b.error().position, 0) << text;
      EXPECT_LE(b.error().position, static_cast<int>(text.size())) << text;
      EXPECT_FALSE(b.error().detail.empty()) << text;
    }
  }
}

}  // namespace
}  // namespace slipway::expr
