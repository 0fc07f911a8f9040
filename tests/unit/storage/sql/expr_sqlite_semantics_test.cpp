// Runs compiled filters on a real in-memory SQLite database with NULLs in every column, to check the null
// semantics end to end: `!e` selects exactly the rows `e` does not, and null never equals a value.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <set>

#include "core/expr/bound_expr.h"
#include "unit/storage/sql/expr_test_util.h"

namespace slipway::sql {
namespace {

using Rows = std::set<std::string>;

class ExprOnSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    exec(R"(CREATE TABLE "users" (id TEXT, created TEXT, updated TEXT, version INTEGER, name TEXT, email TEXT,
              role TEXT, verified INTEGER, password_hash TEXT))");
    exec(R"(CREATE TABLE "posts" (id TEXT, created TEXT, updated TEXT, version INTEGER, title TEXT, body TEXT,
              views INTEGER, score REAL, published INTEGER, draft INTEGER, author TEXT, tags TEXT, secret TEXT,
              status TEXT, publish_at TEXT, url TEXT, vault TEXT))");
    exec(R"(INSERT INTO users (id, name, verified) VALUES ('u1', 'ann', 1), ('u2', NULL, 0), ('u4', 'ann', 0))");
    exec(R"(INSERT INTO posts (id, created, version, title, views, score, published, draft, author, status,
              publish_at) VALUES
      ('p1', '2026-01-01T00:00:00.000Z', 1, 'a',     1,    1.0,  1,    NULL, 'u1', 'draft', '2026-01-01T00:00:00.000Z'),
      ('p2', '2026-02-01T00:00:00.000Z', 1, 'A b',   10,   NULL, 0,    1,    'u2', 'live',  NULL),
      ('p3', '2026-03-01T00:00:00.000Z', 2, NULL,    NULL, 2.5,  NULL, 0,    NULL, NULL,    '2999-01-01T00:00:00.000Z'),
      ('p4', '2026-04-01T00:00:00.000Z', 1, 'x_y%',  5,    5.0,  1,    0,    'u3', 'archived', NULL),
      ('p5', '2026-05-01T00:00:00.000Z', 3, 'b',     3,    10,   0,    NULL, 'u4', NULL,    NULL))");
  }
  void TearDown() override { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  }

  Rows rows(std::string_view filter, const Principal& auth = {}, bool admin = false) {
    expr::BindOptions o;
    o.admin = admin;
    auto b = expr::parse_and_bind(filter, slipway::testing::posts(), slipway::testing::blog_concept(), o);
    EXPECT_TRUE(b) << filter << ": " << (b ? "" : b.error().detail);
    if (!b) return {};
    SqlBuilder q(*dialect_);
    q.append("SELECT t.\"id\" FROM \"posts\" t WHERE ");
    CompileOptions co;
    co.admin = admin;
    compile_condition(**b, q, co);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, q.sql().c_str(), -1, &st, nullptr), SQLITE_OK) << q.sql() << sqlite3_errmsg(db_);
    for (std::size_t i = 0; i < q.params().size(); ++i) {
      const Value v = resolve_param(q.params()[i], auth, 1795963310123);
      const int n = static_cast<int>(i + 1);
      if (const bool* x = std::get_if<bool>(&v)) sqlite3_bind_int(st, n, *x ? 1 : 0);
      else if (const auto* x = std::get_if<std::int64_t>(&v)) sqlite3_bind_int64(st, n, *x);
      else if (const double* x = std::get_if<double>(&v)) sqlite3_bind_double(st, n, *x);
      else if (const auto* x = std::get_if<std::string>(&v)) sqlite3_bind_text(st, n, x->c_str(), -1, SQLITE_TRANSIENT);
      else sqlite3_bind_null(st, n);
    }
    Rows out;
    while (sqlite3_step(st) == SQLITE_ROW) out.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    return out;
  }

  std::unique_ptr<Dialect> dialect_ = make_sqlite_dialect();
  sqlite3* db_ = nullptr;
  const Rows all_{"p1", "p2", "p3", "p4", "p5"};
};

TEST_F(ExprOnSqlite, NullNeverEqualsAndAlwaysDiffers) {
  EXPECT_EQ(rows("title = 'a'"), (Rows{"p1"}));
  EXPECT_EQ(rows("title != 'a'"), (Rows{"p2", "p3", "p4", "p5"}));
  EXPECT_EQ(rows("views < 5"), (Rows{"p1", "p5"}));
  EXPECT_EQ(rows("title = null"), (Rows{"p3"}));
  EXPECT_EQ(rows("draft != true"), (Rows{"p1", "p3", "p4", "p5"}));
}

TEST_F(ExprOnSqlite, LikeIsCaseInsensitiveContainsWithLiteralUnderscore) {
  EXPECT_EQ(rows("title ~ 'a'"), (Rows{"p1", "p2"}));
  EXPECT_EQ(rows("title ~ 'x_y'"), (Rows{"p4"}));
  EXPECT_EQ(rows("title ~ '_'"), (Rows{"p4"}));
  EXPECT_EQ(rows("title ~ '\\%'"), (Rows{"p4"}));
  EXPECT_EQ(rows("title ~ 'a%'"), (Rows{"p1", "p2"}));
  EXPECT_EQ(rows("title !~ 'a'"), (Rows{"p3", "p4", "p5"}));
}

TEST_F(ExprOnSqlite, NegationIsTheExactComplement) {
  Principal user;
  user.kind = PrincipalKind::kUser;
  user.id = "u1";
  Principal editor;
  editor.kind = PrincipalKind::kUser;
  editor.id = "u4";
  editor.set_roles({"member", "editor"});
  const char* filters[] = {
      "title = 'a'", "title != 'a'", "views < 5", "views >= 5", "views = score", "views < score",
      "title ~ 'a'", "title !~ 'b'", "status in ('draft', 'live')", "published", "draft", "!draft",
      "author = @auth.id", "author != @auth.id", "title = null", "published && views > 1",
      "title ~ 'a' || views = null", "created > '2026-02-15'", "publish_at < @now", "@auth.id != null",
      "version <= 1 || !(score > 2 && status != 'live')",
      "'editor' in @auth.roles", "published || 'editor' in @auth.roles", "!('member' in @auth.roles) && views > 1",
      "author = @auth.id || ('editor' in @auth.roles && title != null)",
  };
  for (const char* f : filters) {
    for (const Principal& auth : {Principal{}, user, editor}) {
      SCOPED_TRACE(std::string(f) + (auth.id ? " as " + *auth.id : std::string(" anonymous")));
      const Rows yes = rows(f, auth);
      const Rows no = rows("!(" + std::string(f) + ")", auth);
      Rows both;
      for (const auto& r : yes) {
        if (no.count(r)) both.insert(r);
      }
      EXPECT_TRUE(both.empty());
      Rows any = yes;
      any.insert(no.begin(), no.end());
      EXPECT_EQ(any, all_);
    }
  }
}

TEST_F(ExprOnSqlite, RoleMembershipIsWhetherTheCallerHoldsTheRole) {
  Principal member;
  member.kind = PrincipalKind::kUser;
  member.id = "u1";
  member.set_roles({"member"});
  Principal editor = member;
  editor.set_roles({"member", "editor"});
  EXPECT_EQ(rows("'editor' in @auth.roles"), Rows{});  // anonymous: no roles
  EXPECT_EQ(rows("'editor' in @auth.roles", member), Rows{});
  EXPECT_EQ(rows("'editor' in @auth.roles", editor), all_);
  EXPECT_EQ(rows("!('editor' in @auth.roles)"), all_);
  EXPECT_EQ(rows("!('editor' in @auth.roles)", editor), Rows{});
  EXPECT_EQ(rows("published || 'editor' in @auth.roles", member), (Rows{"p1", "p4"}));
  EXPECT_EQ(rows("published || 'editor' in @auth.roles", editor), all_);
  EXPECT_EQ(rows("'member' in @auth.roles && views >= 5", member), (Rows{"p2", "p4"}));
}

TEST_F(ExprOnSqlite, RelationPathsMatchOnlyVisibleRelatedRecords) {
  Principal user;
  user.id = "u4";
  // users view rule: id = @auth.id || verified. u1 is verified; u4 only sees itself too.
  EXPECT_EQ(rows("author.name = 'ann'"), (Rows{"p1"}));
  EXPECT_EQ(rows("author.name = 'ann'", user), (Rows{"p1", "p5"}));
  EXPECT_EQ(rows("author.name = 'ann'", {}, true), (Rows{"p1", "p5"}));
  EXPECT_EQ(rows("!(author.name = 'ann')", {}, true), (Rows{"p2"}));  // u2's name is null; u3 does not exist
  EXPECT_EQ(rows("author.verified"), (Rows{"p1"}));
  EXPECT_EQ(rows("vault.code = 'x'"), Rows{});
}

}  // namespace
}  // namespace slipway::sql
