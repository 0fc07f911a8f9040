// The per-connection prepared-statement cache is an LRU bounded by count and bytes (issue 6 item 6): distinct
// filter shapes are client input, so an unbounded cache was an anonymous memory leak.
#include "storage/sqlite/connection.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace slipway::storage::sqlite {
namespace {

std::unique_ptr<Connection> open_db(const testing::TempDir& dir, StatementCacheLimits limits) {
  OpenOptions o;
  o.statement_cache = limits;
  auto c = Connection::open(dir.file("db.sqlite"), o);
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

std::string shape(int i) { return "SELECT " + std::to_string(i) + " + ?1"; }

// The record store decides on Problem::fault (a foreign key on insert → 422, a unique value → 409 naming the
// field), never on the engine's message text: the driver must classify.
TEST(DriverFaults, ConstraintErrorsCarryTheirKind) {
  testing::TempDir dir;
  auto conn = open_db(dir, {});
  ASSERT_TRUE(conn->exec("CREATE TABLE a (id TEXT PRIMARY KEY, email TEXT UNIQUE);"
                         "CREATE TABLE b (id TEXT PRIMARY KEY, a TEXT REFERENCES a (id));"
                         "INSERT INTO a VALUES ('1', 'x@example.com')")
                  .has_value());
  auto dup = conn->exec("INSERT INTO a VALUES ('2', 'x@example.com')");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().fault, Fault::kUnique);
  ASSERT_EQ(dup.error().errors.size(), 1u);
  EXPECT_EQ(dup.error().errors[0].field, "email");
  auto dangling = conn->exec("INSERT INTO b VALUES ('1', 'nope')");
  ASSERT_FALSE(dangling.has_value());
  EXPECT_EQ(dangling.error().fault, Fault::kForeignKey);
  auto syntax = conn->exec("SELEKT 1");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().fault, Fault::kNone);
}

TEST(StatementCache, StaysWithinItsCountBound) {
  testing::TempDir dir;
  auto conn = open_db(dir, {16, 1 << 30});
  const auto before = statement_cache_evictions();
  for (int i = 0; i < 1000; ++i) {
    auto lease = conn->prepare(shape(i));
    ASSERT_TRUE(lease.has_value());
    (*lease)->bind(1, Value(std::int64_t{1}));
    auto row = (*lease)->step();
    ASSERT_TRUE(row.has_value() && *row);
    EXPECT_EQ((*lease)->column_int(0), i + 1);
  }
  EXPECT_EQ(conn->cached_statements(), 16u);
  EXPECT_EQ(statement_cache_evictions() - before, 1000u - 16u);
}

TEST(StatementCache, StaysWithinItsByteBound) {
  testing::TempDir dir;
  auto conn = open_db(dir, {100000, 64 * 1024});
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(conn->prepare(shape(i)).has_value());
  EXPECT_LE(conn->cached_bytes(), 64u * 1024u);
  EXPECT_GT(conn->cached_statements(), 1u);
  EXPECT_LT(conn->cached_statements(), 2000u);
}

TEST(StatementCache, KeepsTheMostRecentlyUsedAndNeverALeasedOne) {
  testing::TempDir dir;
  auto conn = open_db(dir, {2, 1 << 30});
  auto held = conn->prepare(shape(0));  // leased for the whole test
  ASSERT_TRUE(held.has_value());
  for (int i = 1; i < 50; ++i) ASSERT_TRUE(conn->prepare(shape(i)).has_value());
  (*held)->bind(1, Value(std::int64_t{41}));
  auto row = (*held)->step();  // still a live statement
  ASSERT_TRUE(row.has_value() && *row);
  EXPECT_EQ((*held)->column_int(0), 41);
  EXPECT_LE(conn->cached_statements(), 3u);
}

TEST(StatementCache, AHitReusesTheSameStatement) {
  testing::TempDir dir;
  auto conn = open_db(dir, {4, 1 << 30});
  storage::Statement* first = nullptr;
  {
    auto a = conn->prepare(shape(1));
    first = &**a;
  }
  for (int i = 2; i < 5; ++i) ASSERT_TRUE(conn->prepare(shape(i)).has_value());
  auto again = conn->prepare(shape(1));
  EXPECT_EQ(&**again, first);
}

}  // namespace
}  // namespace slipway::storage::sqlite
