#include "core/expr/bound_expr.h"

#include <gtest/gtest.h>

#include "core/expr/expr.h"
#include "core/expr/parsed_expr.h"
#include "unit/core/expr/blog_fixture.h"

namespace slipway::expr {
namespace {

// row_only of `text` bound as a rule of posts (rules see every field).
bool row_only_rule(std::string_view text) {
  BindOptions o;
  o.purpose = Purpose::kRule;
  auto b = parse_and_bind(text, testing::posts(), testing::blog_concept(), o);
  EXPECT_TRUE(b) << text << ": " << (b ? "" : b.error().detail);
  return b && row_only(**b);
}

TEST(ExprRowOnly, HoldsForRulesThatReadOnlyTheRow) {
  EXPECT_TRUE(row_only_rule("true"));
  EXPECT_TRUE(row_only_rule("published"));
  EXPECT_TRUE(row_only_rule("!(views < 1) && (title ~ 'x' || status in ('live')) && secret = null"));
}

TEST(ExprRowOnly, FailsForRulesThatReadTheCallerTimeOrOtherRows) {
  EXPECT_FALSE(row_only_rule("author = @auth.id"));
  EXPECT_FALSE(row_only_rule("published || @auth.id != null"));
  EXPECT_FALSE(row_only_rule("publish_at < @now"));
  EXPECT_FALSE(row_only_rule("published && author.verified"));  // the author's view rule reads the caller
  // A role test is the same for every row but not for every caller: a verdict cached with the row would hand one
  // caller's answer to the next.
  EXPECT_FALSE(row_only_rule("'editor' in @auth.roles"));
  EXPECT_FALSE(row_only_rule("published || 'editor' in @auth.roles"));
  EXPECT_FALSE(row_only_rule("published && !('member' in @auth.roles)"));
}

// never_true_for_anonymous of `text` bound as a rule of posts.
bool refuses_anonymous(std::string_view text) {
  BindOptions o;
  o.purpose = Purpose::kRule;
  auto b = parse_and_bind(text, testing::posts(), testing::blog_concept(), o);
  EXPECT_TRUE(b) << text << ": " << (b ? "" : b.error().detail);
  return b && never_true_for_anonymous(**b);
}

TEST(ExprNeverTrueForAnonymous, HoldsForRulesThatNeedACaller) {
  EXPECT_TRUE(refuses_anonymous("false"));
  EXPECT_TRUE(refuses_anonymous("@auth.id != null"));
  EXPECT_TRUE(refuses_anonymous("author = @auth.id"));
  EXPECT_TRUE(refuses_anonymous("@auth.id != null && published"));
  EXPECT_TRUE(refuses_anonymous("'editor' in @auth.roles"));
  EXPECT_TRUE(refuses_anonymous("author = @auth.id || 'editor' in @auth.roles"));
  EXPECT_TRUE(refuses_anonymous("@auth.aal >= 1"));
  EXPECT_TRUE(refuses_anonymous("id = @auth.id"));  // a system column is never null
}

TEST(ExprNeverTrueForAnonymous, FailsWhereARowOrTheAbsenceOfACallerCouldPass) {
  EXPECT_FALSE(refuses_anonymous("true"));
  EXPECT_FALSE(refuses_anonymous("published"));
  EXPECT_FALSE(refuses_anonymous("author = @auth.id || published"));
  EXPECT_FALSE(refuses_anonymous("@auth.id = null"));
  EXPECT_FALSE(refuses_anonymous("author != @auth.id"));  // true for every row with an author
  EXPECT_FALSE(refuses_anonymous("!('editor' in @auth.roles)"));
  EXPECT_FALSE(refuses_anonymous("@auth.aal < 2"));
  EXPECT_FALSE(refuses_anonymous("published && author.verified"));  // relation paths are never judged here
}

}  // namespace
}  // namespace slipway::expr
