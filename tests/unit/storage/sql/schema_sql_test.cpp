// Index names (storage/sql/schema_sql.h): deterministic, at most 63 bytes (PostgreSQL cuts longer identifiers, so two
// long names could collide), distinct, and a unique index keeps "__unique__<field>" at its end wherever it fits.
#include "storage/sql/schema_sql.h"

#include <gtest/gtest.h>

#include <set>

namespace slipway::sql {
namespace {

model::Field field(std::string name, bool unique) {
  model::Field f;
  f.name = std::move(name);
  f.unique = unique;
  return f;
}

TEST(IndexNames, ShortNamesAreUnchanged) {
  model::Collection c;
  c.name = "posts";
  c.fields = {field("email", true)};
  c.indexes = {model::Index{{"published", "created"}, {}}};
  const auto specs = index_specs(c);
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "posts__unique__email");
  EXPECT_EQ(specs[1].name, "posts__idx__published__created");
}

TEST(IndexNames, LongNamesFitIn63BytesStayDistinctAndKeepTheUniqueField) {
  model::Collection c;
  c.name = std::string(63, 'c');  // the longest collection name the concept file allows
  const std::string long_a = "field_" + std::string(50, 'a') + "_one";
  const std::string long_b = "field_" + std::string(50, 'a') + "_two";  // the same first 56 bytes
  c.fields = {field("email", true), field("nickname", true), field(long_a, true), field(long_b, true)};
  c.indexes = {model::Index{{"published", "created"}, {}}, model::Index{{"published", "updated"}, {}}};
  const auto specs = index_specs(c);
  std::set<std::string> names;
  for (const auto& s : specs) {
    EXPECT_LE(s.name.size(), 63u) << s.name;
    names.insert(s.name);
  }
  EXPECT_EQ(names.size(), specs.size());  // no two collide
  EXPECT_TRUE(specs[0].name.ends_with("__unique__email")) << specs[0].name;
  EXPECT_TRUE(specs[1].name.ends_with("__unique__nickname")) << specs[1].name;
  EXPECT_EQ(index_specs(c)[2].name, specs[2].name);  // deterministic: the migration planner finds it again
}

}  // namespace
}  // namespace slipway::sql
