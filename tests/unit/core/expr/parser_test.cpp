#include "core/expr/parsed_expr.h"

#include <gtest/gtest.h>

#include "core/expr/expr.h"

namespace slipway::expr {
namespace {

std::string parsed(std::string_view text, const Limits& limits = {}) {
  auto p = parse(text, limits);
  if (!p) return "error@" + std::to_string(p.error().position) + ": " + p.error().detail;
  return to_string(**p);
}

Problem parse_error(std::string_view text, const Limits& limits = {}) {
  auto p = parse(text, limits);
  EXPECT_FALSE(p.has_value()) << text;
  return p ? Problem{} : p.error();
}

TEST(ExprParser, AndBindsTighterThanOr) {
  EXPECT_EQ(parsed("a = 1 || b = 2 && c = 3"), "((a = 1) || ((b = 2) && (c = 3)))");
  EXPECT_EQ(parsed("(a = 1 || b = 2) && c = 3"), "(((a = 1) || (b = 2)) && (c = 3))");
}

TEST(ExprParser, ChainsAreFlat) {
  auto p = parse("a = 1 && b = 2 && c = 3 && d = 4");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->kind, ParsedExpr::Kind::kAnd);
  EXPECT_EQ((*p)->children.size(), 4u);
}

TEST(ExprParser, ParsesTheSpecExample) {
  EXPECT_EQ(parsed("a = 1 && (b ~ 'x%' || c in ('p','q')) && !d"),
            "((a = 1) && ((b ~ 'x%') || (c in ('p', 'q'))) && !d)");
}

TEST(ExprParser, NotAppliesToGroupsAndBareFields) {
  EXPECT_EQ(parsed("!d"), "!d");
  EXPECT_EQ(parsed("!(a = 1)"), "!(a = 1)");
  EXPECT_EQ(parsed("!!d && !true"), "(!!d && !true)");
}

TEST(ExprParser, RejectsNotBeforeAComparisonWithTheFix) {
  Problem p = parse_error("x = 1 && !a = 1");
  EXPECT_EQ(p.position, 9);
  EXPECT_EQ(p.detail, "'!' applies to a parenthesised expression or a bool field: write !( ... )");
  EXPECT_EQ(parse_error("!a in (1)").position, 0);
}

TEST(ExprParser, ParsesOperandsOnEitherSide) {
  EXPECT_EQ(parsed("10 < views"), "(10 < views)");
  EXPECT_EQ(parsed("@auth.id != null"), "(@auth.id != null)");
  EXPECT_EQ(parsed("x = -1.5"), "(x = -1.5)");
}

TEST(ExprParser, RecordsSpans) {
  auto p = parse("  title = 'abc'  ");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->span.offset, 2u);
  EXPECT_EQ((*p)->span.length, 13u);
  EXPECT_EQ((*p)->op_span.offset, 8u);
  EXPECT_EQ((*p)->rhs.span.offset, 10u);
}

TEST(ExprParser, ReportsWhatWasExpectedAndWhere) {
  EXPECT_EQ(parsed("a = 1 b = 2"), "error@6: expected '&&', '||' or end of expression but found field 'b'");
  EXPECT_EQ(parsed("(a = 1"), "error@6: expected ')' or '&&' or '||' but found end of expression");
  EXPECT_EQ(parsed("a = "), "error@4: expected a field, a value or '(' but found end of expression");
  EXPECT_EQ(parsed("a = 1 &&"), "error@8: expected a field, a value or '(' but found end of expression");
  EXPECT_EQ(parsed("&& a"), "error@0: expected a field, a value or '(' but found '&&'");
  EXPECT_EQ(parsed("a = 1)"), "error@5: expected '&&', '||' or end of expression but found ')'");
  EXPECT_EQ(parsed("()"), "error@1: expected a field, a value or '(' but found ')'");
}

TEST(ExprParser, RejectsEmptyExpression) {
  EXPECT_EQ(parsed(""), "error@0: empty expression");
  EXPECT_EQ(parsed("  \t\n"), "error@0: empty expression");
}

TEST(ExprParser, ParsesInLists) {
  EXPECT_EQ(parsed("status in ('a', \"b\", 3)"), "(status in ('a', 'b', 3))");
  EXPECT_EQ(parsed("x in ()"), "error@6: 'in' needs at least one value");
  EXPECT_EQ(parsed("x in 'a'"), "error@5: expected '(' or @auth.roles after 'in' but found a string");
  EXPECT_EQ(parsed("x in ('a' 'b')"), "error@10: expected ',' or ')' in the 'in' list but found a string");
  // A word in the list was meant as a value: say to quote it (a dotted path cannot be one).
  EXPECT_EQ(parsed("x in (y)"),
            "error@6: expected a value in the 'in' list but found field 'y' (if you meant the value, quote it: 'y')");
  EXPECT_EQ(parsed("x in (a.b)"), "error@6: expected a value in the 'in' list but found field 'a.b'");
  EXPECT_EQ(parsed("x in ('a',)"), "error@10: expected a value in the 'in' list but found ')'");
}

TEST(ExprParser, ParsesMembershipInAnAtName) {
  EXPECT_EQ(parsed("'editor' in @auth.roles"), "('editor' in @auth.roles)");
  EXPECT_EQ(parsed("!('editor' in @auth.roles) || a"), "(!('editor' in @auth.roles) || a)");
  EXPECT_EQ(parsed("x in @now"), "(x in @now)");  // the binder decides what may stand on either side
  EXPECT_EQ(parsed("'editor' in @"), "error@12: expected a name after '@' (@now, @auth.id, @auth.roles)");
}

TEST(ExprParser, LimitsInListSize) {
  Limits limits;
  limits.max_in_items = 3;
  EXPECT_EQ(parsed("x in (1,2,3)", limits), "(x in (1, 2, 3))");
  EXPECT_EQ(parsed("x in (1,2,3,4)", limits), "error@12: too many values in 'in' (max 3)");
}

TEST(ExprParser, LimitsLengthBeforeAnythingElse) {
  Limits limits;
  limits.max_length = 10;
  Problem p = parse_error("title = 'abcdef'", limits);
  EXPECT_EQ(p.position, 10);
  EXPECT_EQ(p.detail, "expression too long (16 bytes, max 10)");
}

TEST(ExprParser, LimitsNestingDepth) {
  Limits limits;
  limits.max_depth = 3;
  EXPECT_EQ(parsed("(((a = 1)))", limits), "(a = 1)");
  EXPECT_EQ(parsed("((((a = 1))))", limits), "error@3: expression nested too deeply (max depth 3)");
  EXPECT_EQ(parsed("!!!!d", limits), "error@3: expression nested too deeply (max depth 3)");
  EXPECT_EQ(parsed("(!(!(d)))", limits), "error@3: expression nested too deeply (max depth 3)");
}

TEST(ExprParser, LimitsNumberOfConditions) {
  Limits limits;
  limits.max_terms = 3;
  EXPECT_EQ(parsed("a = 1 && b = 2 || c", limits), "(((a = 1) && (b = 2)) || c)");
  EXPECT_EQ(parsed("a = 1 && b = 2 && c = 3 && d = 4", limits), "error@27: too many conditions (max 3)");
}

TEST(ExprParser, SurvivesDeepNestingWithoutRecursingDeeply) {
  Limits limits;
  limits.max_length = 1 << 20;
  const std::string deep = std::string(100000, '(') + "a = 1" + std::string(100000, ')');
  Problem p = parse_error(deep, limits);
  EXPECT_EQ(p.position, 32);
  const std::string nots = std::string(100000, '!') + "d";
  EXPECT_EQ(parse_error(nots, limits).position, 32);
}

}  // namespace
}  // namespace slipway::expr
