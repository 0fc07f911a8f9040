#include "core/expr/bound_expr.h"

#include <gtest/gtest.h>

#include "core/expr/expr.h"
#include "core/expr/parsed_expr.h"
#include "unit/core/expr/blog_fixture.h"

namespace slipway::expr {
namespace {

BindOptions client() { return BindOptions{}; }
BindOptions admin() {
  BindOptions o;
  o.admin = true;
  return o;
}
BindOptions rule() {
  BindOptions o;
  o.purpose = Purpose::kRule;
  return o;
}

// The bound tree rendered (see to_string), or "error@<position>: <detail>".
std::string bound(std::string_view text, const BindOptions& o = client(),
                  const model::Collection& c = testing::posts()) {
  auto b = parse_and_bind(text, c, testing::blog_concept(), o);
  if (!b) {
    EXPECT_EQ(b.error().code, ProblemCode::kBadRequest);
    return "error@" + std::to_string(b.error().position) + ": " + b.error().detail;
  }
  return to_string(**b);
}

TEST(ExprBinder, BindsComparisonsAgainstTheCollection) {
  EXPECT_EQ(bound("title = 'x'"), "title = 'x'");
  EXPECT_EQ(bound("views >= 10 && id = 'abc'"), "(views >= 10 AND id = 'abc')");
  EXPECT_EQ(bound("views = score"), "views = score");
  EXPECT_EQ(bound("true"), "TRUE");
}

TEST(ExprBinder, PutsTheFieldOnTheLeft) {
  EXPECT_EQ(bound("10 < views"), "views > 10");
  EXPECT_EQ(bound("10 >= views"), "views <= 10");
  EXPECT_EQ(bound("'x' = title"), "title = 'x'");
}

TEST(ExprBinder, TypesLiteralsToTheField) {
  auto b = parse_and_bind("score > 1 && views > 2", testing::posts(), testing::blog_concept(), client());
  ASSERT_TRUE(b);
  EXPECT_TRUE(std::holds_alternative<double>((*b)->children[0]->rhs.value));
  EXPECT_TRUE(std::holds_alternative<std::int64_t>((*b)->children[1]->rhs.value));
  EXPECT_EQ(bound("published = true"), "published = true");
}

TEST(ExprBinder, NormalisesDatetimeStrings) {
  EXPECT_EQ(bound("created > '2026-01-01'"), "created > '2026-01-01T00:00:00.000Z'");
  EXPECT_EQ(bound("publish_at <= '2026-11-29T16:41:50.5+02:00'"), "publish_at <= '2026-11-29T14:41:50.500Z'");
  EXPECT_EQ(bound("publish_at in ('2026-01-01')"), "publish_at IN ('2026-01-01T00:00:00.000Z')");
  EXPECT_EQ(bound("publish_at < @now"), "publish_at < @now");
}

TEST(ExprBinder, NullLiteralsBecomeIsNull) {
  EXPECT_EQ(bound("title = null"), "title IS NULL");
  EXPECT_EQ(bound("null != title"), "title IS NOT NULL");
  EXPECT_EQ(bound("!(title = null)"), "title IS NOT NULL");
  EXPECT_EQ(bound("tags = null"), "tags IS NULL");
  EXPECT_EQ(bound("@auth.id != null", rule()), "@auth.id IS NOT NULL");
}

TEST(ExprBinder, BareBoolFieldMeansEqualsTrue) {
  EXPECT_EQ(bound("published && !draft"), "(published = true AND draft IS DISTINCT FROM true)");
}

TEST(ExprBinder, NegationIsTheNullAwareComplement) {
  EXPECT_EQ(bound("!(title = 'x')"), "title IS DISTINCT FROM 'x'");
  EXPECT_EQ(bound("title != 'x'"), "title IS DISTINCT FROM 'x'");
  EXPECT_EQ(bound("!(title != 'x')"), "title = 'x'");
  EXPECT_EQ(bound("!(views < 1)"), "(views >= 1 OR views IS NULL)");
  EXPECT_EQ(bound("!(version < 3)"), "version >= 3");  // system fields are never null
  EXPECT_EQ(bound("!(views < score)"), "(views >= score OR views IS NULL OR score IS NULL)");
  EXPECT_EQ(bound("!(status in ('draft', 'live'))"), "(status NOT IN ('draft', 'live') OR status IS NULL)");
  EXPECT_EQ(bound("!!(views < 1)"), "views < 1");
  EXPECT_EQ(bound("!true"), "FALSE");
}

TEST(ExprBinder, NegationOfRuntimeParametersGuardsBothNulls) {
  EXPECT_EQ(bound("author = @auth.id", rule()), "author = @auth.id");
  EXPECT_EQ(bound("author != @auth.id", rule()), "author IS DISTINCT FROM @auth.id");
  EXPECT_EQ(bound("!(author = @auth.id)", rule()),
            "(author IS DISTINCT FROM @auth.id OR (author IS NULL AND @auth.id IS NULL))");
  EXPECT_EQ(bound("!(author != @auth.id)", rule()), "author IS NOT DISTINCT FROM @auth.id");
  EXPECT_EQ(bound("!(@auth.id in ('u1'))", rule()), "(@auth.id NOT IN ('u1') OR @auth.id IS NULL)");
}

TEST(ExprBinder, BindsRoleMembershipAsATestOfTheCaller) {
  EXPECT_EQ(bound("'editor' in @auth.roles"), "'editor' IN @auth.roles");
  EXPECT_EQ(bound("\"member\" in @auth.roles", rule()), "'member' IN @auth.roles");
  EXPECT_EQ(bound("published || 'editor' in @auth.roles", rule()), "(published = true OR 'editor' IN @auth.roles)");
}

TEST(ExprBinder, NegatesRoleMembershipWithoutANullCase) {
  EXPECT_EQ(bound("!('editor' in @auth.roles)"), "'editor' NOT IN @auth.roles");
  EXPECT_EQ(bound("!!('editor' in @auth.roles)"), "'editor' IN @auth.roles");
  EXPECT_EQ(bound("!(published || 'editor' in @auth.roles)", rule()),
            "(published IS DISTINCT FROM true AND 'editor' NOT IN @auth.roles)");
}

TEST(ExprBinder, RejectsRolesTheConceptDoesNotDeclare) {
  EXPECT_EQ(bound("'edtor' in @auth.roles"), "error@0: unknown role 'edtor' (did you mean 'editor'?)");
  EXPECT_EQ(bound("'author' in @auth.roles"), "error@0: unknown role 'author'");
  EXPECT_EQ(bound("'author' in @auth.roles", admin()),
            "error@0: unknown role 'author' (the roles are: admin, editor, member)");
  auto b = parse_and_bind("views > 1 && 'editor' in @auth.roles", testing::blog_concept_without_auth().collections[1],
                          testing::blog_concept_without_auth(), rule());
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().position, 13);
  EXPECT_EQ(b.error().detail,
            "unknown role 'editor': this app declares no roles (roles come from the `auth:` section's roles list)");
}

TEST(ExprBinder, RejectsMembershipOfAnythingButAQuotedRoleInAuthRoles) {
  const std::string left = "only a role name in quotes may stand left of `in @auth.roles`, like 'editor' in @auth.roles";
  EXPECT_EQ(bound("title in @auth.roles"), "error@0: " + left);
  EXPECT_EQ(bound("nosuchfield in @auth.roles"), "error@0: " + left);  // not "unknown field": the fix is the same
  EXPECT_EQ(bound("true in @auth.roles"), "error@0: " + left);
  EXPECT_EQ(bound("'editor' in @auth.id", rule()), "error@12: expected '(' or @auth.roles after 'in' but found '@auth.id'");
  EXPECT_EQ(bound("'editor' in @request.roles"), "error@12: @request is not supported yet");
  const std::string set = "@auth.roles is a set of roles, not a value: test membership with 'editor' in @auth.roles";
  EXPECT_EQ(bound("@auth.roles", rule()), "error@0: " + set);
  EXPECT_EQ(bound("@auth.roles != null", rule()), "error@0: " + set);
  EXPECT_EQ(bound("status in @auth.roles"), "error@0: " + left);
}

TEST(ExprBinder, AppliesDeMorgan) {
  EXPECT_EQ(bound("!(published && views > 1)"),
            "(published IS DISTINCT FROM true OR (views <= 1 OR views IS NULL))");
  EXPECT_EQ(bound("!(title = 'a' || body = 'b')"), "(title IS DISTINCT FROM 'a' AND body IS DISTINCT FROM 'b')");
}

TEST(ExprBinder, LikeMeansContainsUnlessThePatternHasAWildcard) {
  EXPECT_EQ(bound("title ~ 'abc'"), "title LIKE '%abc%'");
  EXPECT_EQ(bound("title ~ 'ab%'"), "title LIKE 'ab%'");
  EXPECT_EQ(bound("title ~ 'a_b'"), "title LIKE '%a\\_b%'");
  EXPECT_EQ(bound("title ~ '50\\%'"), "title LIKE '%50\\%%'");
  EXPECT_EQ(bound("title ~ 'a\\\\b'"), "title LIKE '%a\\\\b%'");
  EXPECT_EQ(bound("title ~ 'it\\'s'"), "title LIKE '%it's%'");
  EXPECT_EQ(bound("title !~ 'x'"), "(title NOT LIKE '%x%' OR title IS NULL)");
  EXPECT_EQ(bound("!(title !~ 'x')"), "title LIKE '%x%'");
  EXPECT_EQ(bound("status ~ 'li' && url ~ 'https:'"), "(status LIKE '%li%' AND url LIKE '%https:%')");
}

TEST(ExprBinder, BindsRelationPathsAgainstTheTarget) {
  EXPECT_EQ(bound("author.name = 'ann'"), "author -> users[name = 'ann']");
  EXPECT_EQ(bound("author.verified"), "author -> users[verified = true]");
  EXPECT_EQ(bound("!(author.name = 'ann')"), "author -> users[name IS DISTINCT FROM 'ann']");
  EXPECT_EQ(bound("author.role in ('admin')"), "author -> users[role IN ('admin')]");
  EXPECT_EQ(bound("author.id = @auth.id"), "author -> users[id = @auth.id]");
  EXPECT_EQ(bound("@auth.id = author.id"), "author -> users[id = @auth.id]");
  EXPECT_EQ(bound("author.created < @now"), "author -> users[created < @now]");
  auto b = parse_and_bind("author.name = 'ann'", testing::posts(), testing::blog_concept(), client());
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)->kind, BoundExpr::Kind::kRelated);
  EXPECT_EQ((*b)->target, &testing::users());
  EXPECT_EQ((*b)->inner->collection, &testing::users());
}

TEST(ExprBinder, RejectsUnknownFieldWithSuggestion) {
  EXPECT_EQ(bound("titel = 'x'"), "error@0: unknown field 'titel' (did you mean 'title'?)");
  EXPECT_EQ(bound("views > 1 && creatd > '2026-01-01'"),
            "error@13: unknown field 'creatd' (did you mean 'created'?)");
  EXPECT_EQ(bound("zzzzzz = 1"), "error@0: unknown field 'zzzzzz'");
}

TEST(ExprBinder, RejectsHiddenFieldInClientFilter) {
  EXPECT_EQ(bound("secret = 'x'"), "error@0: unknown field 'secret'");
  // No hint that `secret` exists: the nearest visible name is suggested instead.
  EXPECT_EQ(bound("secre = 'x'"), "error@0: unknown field 'secre' (did you mean 'score'?)");
  EXPECT_EQ(bound("author.password_hash = 'x'"), "error@7: unknown field 'password_hash' in 'users'");
}

TEST(ExprBinder, AllowsHiddenFieldsForAdminAndRules) {
  EXPECT_EQ(bound("secret = 'x'", admin()), "secret = 'x'");
  EXPECT_EQ(bound("secre = 'x'", admin()), "error@0: unknown field 'secre' (did you mean 'secret'?)");
  EXPECT_EQ(bound("secret = 'x'", rule()), "secret = 'x'");
}

TEST(ExprBinder, RejectsTypeMismatchesNamingFieldAndType) {
  EXPECT_EQ(bound("views = 'x'"), "error@8: cannot compare int field 'views' with a string");
  EXPECT_EQ(bound("title = 1"), "error@8: cannot compare text field 'title' with a number");
  EXPECT_EQ(bound("published = 1"), "error@12: cannot compare bool field 'published' with a number");
  EXPECT_EQ(bound("created = 5"), "error@10: cannot compare datetime field 'created' with a number");
  EXPECT_EQ(bound("title = views"), "error@8: cannot compare text field 'title' with int field 'views'");
  EXPECT_EQ(bound("tags = 'x'"),
            "error@7: cannot compare json field 'tags' with a string (a json field can only be compared with null)");
  EXPECT_EQ(bound("author.name = 1"), "error@14: cannot compare text field 'author.name' with a number");
}

TEST(ExprBinder, RejectsEnumLiteralsOutsideTheValues) {
  EXPECT_EQ(bound("status = 'nope'"),
            "error@9: 'nope' is not a value of enum field 'status' (expected one of: draft, live, archived)");
  EXPECT_EQ(bound("status in ('live', 'gone')"),
            "error@19: 'gone' is not a value of enum field 'status' (expected one of: draft, live, archived)");
}

TEST(ExprBinder, RejectsInvalidDatetimeAtTheString) {
  EXPECT_EQ(bound("created > 'yesterday'"),
            "error@10: invalid datetime 'yesterday' for datetime field 'created' (expected RFC 3339 in years 0001-9999 UTC, like "
            "2026-01-31 or 2026-01-31T12:00:00Z)");
  EXPECT_EQ(bound("publish_at = '2026-13-01'").substr(0, 47), "error@13: invalid datetime '2026-13-01' for dat");
}

TEST(ExprBinder, RejectsOrderingOnBoolAndJson) {
  EXPECT_EQ(bound("published < true"), "error@10: cannot use '<' on bool field 'published'");
  EXPECT_EQ(bound("tags >= 1"), "error@5: cannot use '>=' on json field 'tags'");
}

TEST(ExprBinder, RejectsNullWithOrderingOperators) {
  EXPECT_EQ(bound("views < null"), "error@6: null can only be compared with = or != (found '<')");
  EXPECT_EQ(bound("status in ('live', null)"), "error@19: null is not allowed in an 'in' list (use = null)");
}

TEST(ExprBinder, RestrictsLikeToTextFieldsAndStrings) {
  EXPECT_EQ(bound("views ~ 'x'"), "error@0: cannot use '~' on int field 'views' (only on text, email, url and enum fields)");
  EXPECT_EQ(bound("tags !~ 'x'").substr(0, 40), "error@0: cannot use '!~' on json field '");
  EXPECT_EQ(bound("title ~ 1"), "error@8: '~' needs a string, not a number");
  EXPECT_EQ(bound("'x' ~ title"), "error@0: the pattern of '~' goes on the right (field ~ 'text')");
  EXPECT_EQ(bound("title ~ body"), "error@8: '~' needs a string, not text field 'body'");
}

TEST(ExprBinder, RejectsComparisonsWithoutAField) {
  EXPECT_EQ(bound("1 = 1"), "error@0: a comparison needs a field or an @-value on one side");
  EXPECT_EQ(bound("1 in (1)"), "error@0: the left side of 'in' must be a field or an @-value");
}

TEST(ExprBinder, RejectsBareNonBoolTerms) {
  EXPECT_EQ(bound("title"), "error@0: text field 'title' is not a condition: only a bool field may stand alone "
                            "(compare it: title = ...)");
  EXPECT_EQ(bound("'x'"), "error@0: expected a condition but found a string");
  EXPECT_EQ(bound("null"), "error@0: expected a condition but found null");
  EXPECT_EQ(bound("@auth.id", rule()), "error@0: expected a comparison with @auth.id (like @auth.id = ...)");
}

TEST(ExprBinder, RejectsUnsupportedMacros) {
  EXPECT_EQ(bound("@request.body.title = 'x'"), "error@0: @request is not supported yet");
  EXPECT_EQ(bound("@request.body.title = 'x'", rule()), "error@0: @request is not supported yet");
  EXPECT_EQ(bound("views = 1 && @foo = 1"), "error@13: unknown '@foo' (expected @now, @auth.id, @auth.roles or @auth.aal)");
}

TEST(ExprBinder, ChecksMacroTypes) {
  EXPECT_EQ(bound("status = @auth.id"), "error@9: cannot compare enum field 'status' with @auth.id");
  EXPECT_EQ(bound("views = @now"), "error@8: cannot compare int field 'views' with @now");
  EXPECT_EQ(bound("@now > '2026-01-01'"), "@now > '2026-01-01T00:00:00.000Z'");
  EXPECT_EQ(bound("@auth.id = 1", rule()), "error@11: cannot compare @auth.id with a number");
}

TEST(ExprBinder, RejectsTheSingleValuedAuthRoleWithItsReplacement) {
  const std::string gone = "@auth.role is gone: test membership with 'editor' in @auth.roles";
  EXPECT_EQ(bound("@auth.role = 'admin'", rule()), "error@0: " + gone);
  EXPECT_EQ(bound("status = @auth.role", rule()), "error@9: " + gone);
  EXPECT_EQ(bound("published || @auth.role in ('editor')"), "error@13: " + gone);
  EXPECT_EQ(bound("'editor' in @auth.role"), "error@12: " + gone);
}

TEST(ExprBinder, RejectsMalformedRelationPaths) {
  EXPECT_EQ(bound("title.x = 1"), "error@0: 'title' is not a relation field, so 'title.x' is not a path");
  EXPECT_EQ(bound("id.x = 1"), "error@0: 'id' is not a relation field, so 'id.x' is not a path");
  EXPECT_EQ(bound("author.vault.code = 'x'"), "error@12: a relation path has one level (like author.name)");
  EXPECT_EQ(bound("author.nme = 'x'"), "error@7: unknown field 'nme' in 'users' (did you mean 'name'?)");
  EXPECT_EQ(bound("author.name = title"), "error@0: a relation path can only be compared with a value");
  EXPECT_EQ(bound("auther.name = 'x'"), "error@0: unknown field 'auther' (did you mean 'author'?)");
}

TEST(ExprBinder, IsUsableFromMultipleBindsOfOneParse) {
  auto p = parse("views > 1");
  ASSERT_TRUE(p);
  auto a = bind(**p, testing::posts(), testing::blog_concept(), client());
  auto b = bind(**p, testing::posts(), testing::blog_concept(), admin());
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(to_string(**a), to_string(**b));
}

}  // namespace
}  // namespace slipway::expr
