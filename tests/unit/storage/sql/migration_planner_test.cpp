#include "storage/sql/migration_planner.h"

#include <gtest/gtest.h>

namespace slipway::sql {
namespace {

using model::Field;
using model::FieldType;

Field field(std::string name, FieldType type) {
  Field f;
  f.name = std::move(name);
  f.type = type;
  return f;
}

model::Concept blog() {
  model::Concept c;
  c.app = "blog";
  model::Collection authors;
  authors.name = "authors";
  authors.fields.push_back(field("name", FieldType::kText));
  model::Collection posts;
  posts.name = "posts";
  posts.fields.push_back(field("title", FieldType::kText));
  posts.fields.push_back(field("views", FieldType::kInt));
  Field author = field("author", FieldType::kRelation);
  author.to = "authors";
  author.on_delete = model::OnDelete::kCascade;
  posts.fields.push_back(author);
  posts.indexes.push_back({{"views", "created"}, {}});
  c.collections.push_back(std::move(authors));
  c.collections.push_back(std::move(posts));
  return c;
}

std::string all_sql(const MigrationPlan& p) {
  std::string s;
  for (const auto& step : p.steps)
    for (const auto& q : step.sql) s += q + ";\n";
  return s;
}

// PostgreSQL checks a REFERENCES target when the table is created: a collection comes after those it references,
// whatever the file's order, and a cycle gets its foreign key once both tables exist.
TEST(MigrationPlanner, CreatesReferencedCollectionsFirstAndLinksCyclesAfterwards) {
  model::Concept c = blog();
  std::swap(c.collections[0], c.collections[1]);  // posts (→ authors) first in the file
  Field favourite = field("favourite", FieldType::kRelation);
  favourite.to = "posts";
  favourite.on_delete = model::OnDelete::kSetNull;
  auto pg = make_postgres_dialect();
  auto plan = plan_migration(std::nullopt, c, *pg);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_EQ(plan->steps[0].description, "create collection authors");
  EXPECT_EQ(plan->steps[1].description, "create collection posts");

  c.collections[1].fields.push_back(favourite);  // authors.favourite → posts: a cycle
  plan = plan_migration(std::nullopt, c, *pg);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 3u);
  EXPECT_EQ(plan->steps[0].description, "create collection posts");
  EXPECT_EQ(plan->steps[0].sql[0].find("REFERENCES"), std::string::npos) << plan->steps[0].sql[0];
  EXPECT_EQ(plan->steps[1].description, "create collection authors");
  EXPECT_NE(plan->steps[1].sql[0].find("\"favourite\" text REFERENCES \"posts\"(\"id\") ON DELETE SET NULL"),
            std::string::npos)
      << plan->steps[1].sql[0];
  EXPECT_EQ(plan->steps[2].description, "link relation posts.author to authors");
  EXPECT_EQ(plan->steps[2].sql[0],
            "ALTER TABLE \"posts\" ADD FOREIGN KEY (\"author\") REFERENCES \"authors\"(\"id\") ON DELETE CASCADE");
}

TEST(MigrationPlanner, CreatesEveryCollectionOnAnEmptyDatabase) {
  auto d = make_sqlite_dialect();
  auto plan = plan_migration(std::nullopt, blog(), *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 2u);
  EXPECT_FALSE(plan->has_destructive());
  EXPECT_EQ(all_sql(*plan),
            "CREATE TABLE \"authors\" (\"id\" TEXT PRIMARY KEY NOT NULL, \"created\" TEXT NOT NULL, \"updated\" TEXT NOT "
            "NULL, \"version\" INTEGER NOT NULL, \"name\" TEXT);\n"
            "CREATE TABLE \"posts\" (\"id\" TEXT PRIMARY KEY NOT NULL, \"created\" TEXT NOT NULL, \"updated\" TEXT NOT "
            "NULL, \"version\" INTEGER NOT NULL, \"title\" TEXT, \"views\" INTEGER, \"author\" TEXT REFERENCES "
            "\"authors\"(\"id\") ON DELETE CASCADE);\n"
            "CREATE INDEX \"posts__rel__author\" ON \"posts\" (\"author\");\n"
            "CREATE INDEX \"posts__idx__views__created\" ON \"posts\" (\"views\", \"created\", \"id\");\n");
  EXPECT_EQ(plan->checksum.size(), 64u);
}

TEST(MigrationPlanner, NothingToDoWhenTheSnapshotMatches) {
  auto d = make_sqlite_dialect();
  const auto c = blog();
  auto plan = plan_migration(schema_snapshot(c), c, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->empty());
}

TEST(MigrationPlanner, AddingAFieldWithADefaultIsSafe) {
  auto d = make_sqlite_dialect();
  const auto before = blog();
  auto after = blog();
  Field published = field("published", FieldType::kBool);
  published.default_value = Value(false);
  after.collections[1].fields.push_back(published);
  auto plan = plan_migration(schema_snapshot(before), after, *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_FALSE(plan->steps[0].destructive);
  EXPECT_EQ(all_sql(*plan), "ALTER TABLE \"posts\" ADD COLUMN \"published\" INTEGER DEFAULT 0;\n");
}

TEST(MigrationPlanner, ANewRequiredFieldWithoutDefaultIsDestructive) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  Field slug = field("slug", FieldType::kText);
  slug.required = true;
  after.collections[1].fields.push_back(slug);
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->has_destructive());
}

TEST(MigrationPlanner, DroppingAFieldDropsItsIndexesFirstAndIsDestructive) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections[1].fields.erase(after.collections[1].fields.begin() + 1);  // views
  after.collections[1].indexes.clear();
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_TRUE(plan->steps[0].destructive);
  EXPECT_EQ(all_sql(*plan),
            "DROP INDEX \"posts__idx__views__created\";\nALTER TABLE \"posts\" DROP COLUMN \"views\";\n");
}

TEST(MigrationPlanner, WideningIntToFloatRebuildsSafelyNarrowingIsDestructive) {
  auto d = make_sqlite_dialect();
  auto widened = blog();
  widened.collections[1].fields[1].type = FieldType::kFloat;
  auto plan = plan_migration(schema_snapshot(blog()), widened, *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_FALSE(plan->steps[0].destructive);
  EXPECT_NE(all_sql(*plan).find("CAST(\"views\" AS REAL)"), std::string::npos);

  auto narrowed = plan_migration(schema_snapshot(widened), blog(), *d);
  ASSERT_TRUE(narrowed.has_value());
  EXPECT_TRUE(narrowed->has_destructive());
}

TEST(MigrationPlanner, OptionChangesThatCannotBreakDataAreValidationOnly) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections[1].fields[0].hidden = true;
  after.collections[1].fields[1].default_value = Value(std::int64_t{0});
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 2u);
  for (const auto& s : plan->steps) {
    EXPECT_TRUE(s.sql.empty());
    EXPECT_FALSE(s.destructive);
    EXPECT_FALSE(s.check.has_value());
  }
}

TEST(MigrationPlanner, NarrowingIsDestructiveUntilTheDataSaysOtherwise) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections[1].fields[0].max = 100;
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->steps.size(), 1u);
  EXPECT_TRUE(plan->steps[0].destructive);
  ASSERT_TRUE(plan->steps[0].check.has_value());
  EXPECT_EQ(plan->steps[0].check->kind, DataCheck::Kind::kViolations);
  settle_step(plan->steps[0], 0);
  EXPECT_FALSE(plan->steps[0].destructive);
  EXPECT_FALSE(plan->has_destructive());
}

TEST(MigrationPlanner, UniqueBecomesAnIndexStep) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections[0].fields[0].unique = true;
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_NE(all_sql(*plan).find("CREATE UNIQUE INDEX \"authors__unique__name\" ON \"authors\" (\"name\")"),
            std::string::npos);
}

TEST(MigrationPlanner, RemovingUniqueDropsItsIndex) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections[0].fields[0].unique = true;   // authors.name unique → unique index
  auto with_unique = schema_snapshot(after);
  after.collections[0].fields[0].unique = false;  // and back: the unique index goes
  auto plan = plan_migration(with_unique, after, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(all_sql(*plan), "DROP INDEX IF EXISTS \"authors__unique__name\";\n");
}

TEST(MigrationPlanner, DroppingACollectionIsDestructive) {
  auto d = make_sqlite_dialect();
  auto after = blog();
  after.collections.pop_back();
  auto plan = plan_migration(schema_snapshot(blog()), after, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->has_destructive());
  EXPECT_EQ(all_sql(*plan), "DROP TABLE \"posts\";\n");
}

TEST(MigrationPlanner, ACorruptedSnapshotIsAnError) {
  auto d = make_sqlite_dialect();
  EXPECT_FALSE(plan_migration(std::string("{not json"), blog(), *d).has_value());
  EXPECT_FALSE(plan_migration(std::string("{\"collections\":[{\"name\":1}]}"), blog(), *d).has_value());
}

TEST(MigrationPlanner, PostgresAltersTypesInPlace) {
  auto d = make_postgres_dialect();
  auto widened = blog();
  widened.collections[1].fields[1].type = FieldType::kFloat;
  auto plan = plan_migration(schema_snapshot(blog()), widened, *d);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(all_sql(*plan),
            "ALTER TABLE \"posts\" ALTER COLUMN \"views\" TYPE double precision USING \"views\"::double precision;\n");
}

}  // namespace
}  // namespace slipway::sql
