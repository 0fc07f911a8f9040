#include "storage/sql/expr_compiler.h"

#include <gtest/gtest.h>

#include "core/expr/bound_expr.h"
#include "unit/storage/sql/expr_test_util.h"

namespace slipway::sql {
namespace {

using slipway::testing::collection;
using testing::compile;
using testing::Compiled;

class ExprCompiler : public ::testing::Test {
 protected:
  std::unique_ptr<Dialect> sqlite_ = make_sqlite_dialect();
  std::unique_ptr<Dialect> pg_ = make_postgres_dialect();

  // Checks one filter against both dialects.
  void expect(std::string_view filter, const std::string& sqlite, const std::string& postgres,
              const std::string& params, bool admin = false, const std::string& coll = "posts") {
    const Compiled a = compile(filter, *sqlite_, collection(coll), admin);
    EXPECT_EQ(a.sql, sqlite) << filter;
    EXPECT_EQ(a.params, params) << filter;
    const Compiled b = compile(filter, *pg_, collection(coll), admin);
    EXPECT_EQ(b.sql, postgres) << filter;
    EXPECT_EQ(b.params, params) << filter;
  }
};

TEST_F(ExprCompiler, CompilesComparisonsToParameterisedSql) {
  expect("title = 'x'", R"((t."title" = ?1))", R"((t."title" = $1))", "'x'");
  expect("views >= 10 && score < 2.5", R"((t."views" >= ?1 AND t."score" < ?2))",
         R"((t."views" >= $1 AND t."score" < $2))", "10, 2.5");
}

TEST_F(ExprCompiler, CompilesTheSpecExample) {
  expect("views = 1 && (title ~ 'x%' || status in ('draft','live')) && !draft",
         R"((t."views" = ?1 AND (t."title" LIKE ?2 ESCAPE '\' OR t."status" IN (?3, ?4)) AND t."draft" IS NOT ?5))",
         R"((t."views" = $1 AND (t."title" ILIKE $2 ESCAPE '\' OR t."status" IN ($3, $4)) AND t."draft" IS DISTINCT FROM $5))",
         "1, 'x%', 'draft', 'live', true");
}

TEST_F(ExprCompiler, CompilesNullSemantics) {
  expect("title = null", R"((t."title" IS NULL))", R"((t."title" IS NULL))", "");
  expect("title != 'a'", R"((t."title" IS NOT ?1))", R"((t."title" IS DISTINCT FROM $1))", "'a'");
  expect("!(views < 1)", R"((t."views" >= ?1 OR t."views" IS NULL))", R"((t."views" >= $1 OR t."views" IS NULL))",
         "1");
  expect("!(status in ('live'))", R"((t."status" NOT IN (?1) OR t."status" IS NULL))",
         R"((t."status" NOT IN ($1) OR t."status" IS NULL))", "'live'");
  expect("title !~ 'a'", R"((t."title" NOT LIKE ?1 ESCAPE '\' OR t."title" IS NULL))",
         R"((t."title" NOT ILIKE $1 ESCAPE '\' OR t."title" IS NULL))", "'%a%'");
}

TEST_F(ExprCompiler, CompilesRuntimeParameters) {
  expect("author = @auth.id", R"((t."author" = ?1))", R"((t."author" = CAST($1 AS text)))", "@auth.id");
  expect("!(author = @auth.id)", R"((t."author" IS NOT ?1 OR (t."author" IS NULL AND ?2 IS NULL)))",
         R"((t."author" IS DISTINCT FROM CAST($1 AS text) OR (t."author" IS NULL AND CAST($2 AS text) IS NULL)))",
         "@auth.id, @auth.id");
  expect("!(author != @auth.id)", R"((t."author" IS ?1))", R"((t."author" IS NOT DISTINCT FROM CAST($1 AS text)))",
         "@auth.id");
  expect("publish_at < @now", R"((t."publish_at" < ?1))", R"((t."publish_at" < CAST($1 AS timestamptz)))", "@now");
  expect("'editor' in @auth.roles", R"((?1 = 1))", R"((CAST($1 AS bigint) = 1))", "@auth.roles∋editor");
  expect("!('editor' in @auth.roles)", R"((?1 = 0))", R"((CAST($1 AS bigint) = 0))", "@auth.roles∋editor");
}

TEST_F(ExprCompiler, CompilesRuleWithAuthNullCheck) {
  const Compiled c = compile("@auth.id != null", *pg_, collection("posts"), false, expr::Purpose::kRule);
  EXPECT_EQ(c.sql, R"((CAST($1 AS text) IS NOT NULL))");
  EXPECT_EQ(compile("@auth.id != null", *sqlite_, collection("posts"), false, expr::Purpose::kRule).sql,
            "(?1 IS NOT NULL)");
}

TEST_F(ExprCompiler, CompilesConstants) {
  expect("true", "(1)", "(TRUE)", "");
  expect("!true || views = 1", R"((0 OR t."views" = ?1))", R"((FALSE OR t."views" = $1))", "1");
}

TEST_F(ExprCompiler, NormalisesDatetimeLiterals) {
  expect("created >= '2026-01-01'", R"((t."created" >= ?1))", R"((t."created" >= $1))",
         "'2026-01-01T00:00:00.000Z'");
}

TEST_F(ExprCompiler, RelationPathAppliesTheTargetViewRule) {
  expect("author.name = 'ann'",
         R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" = ?1) AND (r1."id" = ?2 OR r1."verified" = ?3))))",
         R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" = $1) AND (r1."id" = CAST($2 AS text) OR r1."verified" = $3))))",
         "'ann', @auth.id, true");
}

TEST_F(ExprCompiler, RelationPathSkipsViewRuleForAdmin) {
  expect("author.name = 'ann'", R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" = ?1))))",
         R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" = $1))))", "'ann'", true);
}

TEST_F(ExprCompiler, RelationPathWithoutViewRuleMatchesNothing) {
  expect("vault.code = 'x'", "(0)", "(FALSE)", "");
  expect("!(vault.code = 'x') || views = 1", R"((0 OR t."views" = ?1))", R"((FALSE OR t."views" = $1))", "1");
  expect("vault.code = 'x'", R"((t."vault" IN (SELECT r1."id" FROM "secrets" r1 WHERE (r1."code" = ?1))))",
         R"((t."vault" IN (SELECT r1."id" FROM "secrets" r1 WHERE (r1."code" = $1))))", "'x'", true);
}

TEST_F(ExprCompiler, RelationPathNegationStaysInsideTheSubquery) {
  expect("!(author.name = 'ann')",
         R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" IS NOT ?1) AND (r1."id" = ?2 OR r1."verified" = ?3))))",
         R"((t."author" IN (SELECT r1."id" FROM "users" r1 WHERE (r1."name" IS DISTINCT FROM $1) AND (r1."id" = CAST($2 AS text) OR r1."verified" = $3))))",
         "'ann', @auth.id, true");
}

TEST_F(ExprCompiler, RelationPathNestsThroughViewRulesWithUniqueAliases) {
  expect("post.title = 'x'",
         R"((t."post" IN (SELECT r1."id" FROM "posts" r1 WHERE (r1."title" = ?1) AND (r1."published" = ?2 OR r1."author" = ?3))))",
         R"((t."post" IN (SELECT r1."id" FROM "posts" r1 WHERE (r1."title" = $1) AND (r1."published" = $2 OR r1."author" = CAST($3 AS text)))))",
         "'x', true, @auth.id", false, "comments");
}

TEST_F(ExprCompiler, SelfReferencingViewRuleStopsAtDepthTwo) {
  const Compiled c = compile("parent.public = true", *sqlite_, collection("nodes"));
  EXPECT_EQ(c.sql,
            R"((t."parent" IN (SELECT r1."id" FROM "nodes" r1 WHERE (r1."public" = ?1) AND (r1."public" = ?2 OR )"
            R"(r1."parent" IN (SELECT r2."id" FROM "nodes" r2 WHERE (r2."public" = ?3) AND (r2."public" = ?4 OR 0))))))");
  EXPECT_EQ(c.params, "true, true, true, true");
}

TEST_F(ExprCompiler, UserInputNeverBecomesSqlText) {
  // The lexer needs the single quote escaped; everything else is just characters of a value.
  const std::string filter = "title = '\"; DROP TABLE posts; -- \\' /* */ é🚀'";
  expect(filter, R"((t."title" = ?1))", R"((t."title" = $1))", "'\"; DROP TABLE posts; -- ' /* */ é🚀'");
  expect("title ~ '_%\\\\'", R"((t."title" LIKE ?1 ESCAPE '\'))", R"((t."title" ILIKE $1 ESCAPE '\'))",
         R"('\_%\\')");
}

TEST_F(ExprCompiler, AppendsToAnExistingBuilderAndHonoursTheAlias) {
  auto a = expr::parse_and_bind("views = 1", collection("posts"), slipway::testing::blog_concept(), {});
  auto b = expr::parse_and_bind("title = 'x'", collection("posts"), slipway::testing::blog_concept(), {});
  ASSERT_TRUE(a && b);
  SqlBuilder out(*sqlite_);
  out.append("SELECT 1 FROM \"posts\" p WHERE ");
  CompileOptions o;
  o.table_alias = "p";
  compile_condition(**a, out, o);
  out.append(" AND ");
  compile_condition(**b, out, o);
  EXPECT_EQ(out.sql(), R"(SELECT 1 FROM "posts" p WHERE (p."views" = ?1) AND (p."title" = ?2))");
  EXPECT_EQ(testing::render_params(out.params()), "1, 'x'");
}

TEST_F(ExprCompiler, CompilesAThousandItemInList) {
  std::string list = "views in (";
  for (int i = 0; i < 1000; ++i) list += (i ? "," : "") + std::to_string(i);
  list += ")";
  expr::Limits wide;
  wide.max_in_items = 1000;
  auto b = expr::parse_and_bind(list, collection("posts"), slipway::testing::blog_concept(), {}, wide);
  ASSERT_TRUE(b);
  SqlBuilder out(*pg_);
  compile_condition(**b, out);
  EXPECT_EQ(out.params().size(), 1000u);
  EXPECT_TRUE(out.sql().ends_with("$999, $1000))"));
}

}  // namespace
}  // namespace slipway::sql
