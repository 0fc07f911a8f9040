#include "core/concept/model.h"

#include <gtest/gtest.h>

namespace slipway::model {
namespace {

TEST(FieldTypeNames, RoundTripEveryType) {
  for (FieldType t : {FieldType::kText, FieldType::kInt, FieldType::kFloat, FieldType::kBool, FieldType::kDatetime,
                      FieldType::kEmail, FieldType::kUrl, FieldType::kEnum, FieldType::kJson, FieldType::kRelation}) {
    auto parsed = parse_field_type(field_type_name(t));
    ASSERT_TRUE(parsed.has_value()) << field_type_name(t);
    EXPECT_EQ(*parsed, t);
  }
}

TEST(FieldTypeNames, RejectsUnknownAndDifferentlyCasedNames) {
  EXPECT_FALSE(parse_field_type("Text").has_value());
  EXPECT_FALSE(parse_field_type("string").has_value());
  EXPECT_FALSE(parse_field_type("").has_value());
}

TEST(OnDeleteNames, AreTheFileSpellings) {
  EXPECT_STREQ(on_delete_name(OnDelete::kRestrict), "restrict");
  EXPECT_STREQ(on_delete_name(OnDelete::kCascade), "cascade");
  EXPECT_STREQ(on_delete_name(OnDelete::kSetNull), "set_null");
}

TEST(Pattern, MatchesTheWholeValueOnly) {
  std::string error;
  auto p = compile_pattern("[a-z]+", error);
  ASSERT_NE(p, nullptr) << error;
  EXPECT_EQ(p->source(), "[a-z]+");
  EXPECT_TRUE(p->matches("abc"));
  EXPECT_FALSE(p->matches("abc1"));
  EXPECT_FALSE(p->matches("1abc"));
  EXPECT_FALSE(p->matches(""));
}

TEST(Pattern, ReportsRe2ErrorForBadSyntax) {
  std::string error;
  EXPECT_EQ(compile_pattern("(unclosed", error), nullptr);
  EXPECT_EQ(error, "missing ): (unclosed");
}

TEST(Pattern, RejectsBackreferencesThatWouldNeedBacktracking) {
  std::string error;
  EXPECT_EQ(compile_pattern("(a)\\1", error), nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(Collection, FindsFieldsByNameAndIndex) {
  Collection c;
  c.fields.resize(2);
  c.fields[0].name = "title";
  c.fields[1].name = "body";
  ASSERT_NE(c.find_field("body"), nullptr);
  EXPECT_EQ(c.find_field("body")->name, "body");
  EXPECT_EQ(c.find_field("nope"), nullptr);
  EXPECT_EQ(c.field_index("title"), 0);
  EXPECT_EQ(c.field_index("body"), 1);
  EXPECT_EQ(c.field_index("id"), -1);
}

TEST(SystemFields, AreIdCreatedUpdatedVersion) {
  for (const char* name : {"id", "created", "updated", "version"}) EXPECT_TRUE(is_system_field(name)) << name;
  EXPECT_FALSE(is_system_field("title"));
  EXPECT_FALSE(is_system_field("ID"));
}

TEST(Concept, FindsCollectionsByName) {
  Concept c;
  c.collections.resize(2);
  c.collections[0].name = "posts";
  c.collections[1].name = "authors";
  ASSERT_NE(c.find_collection("authors"), nullptr);
  EXPECT_EQ(c.find_collection("authors"), &c.collections[1]);
  EXPECT_EQ(c.find_collection("users"), nullptr);
}

TEST(Concept, HasNoUsersCollectionWithoutAuth) {
  Concept c;
  c.collections.resize(1);
  c.collections[0].name = "users";
  c.collections[0].auth = true;
  EXPECT_EQ(c.users(), nullptr);  // identity is off: whatever the collections say
  c.auth.emplace();
  EXPECT_EQ(c.users(), &c.collections[0]);
}

TEST(Concept, FindsTheUsersCollectionByItsFlagNotItsPosition) {
  Concept c;
  c.auth.emplace();
  c.collections.resize(2);
  c.collections[0].name = "posts";
  c.collections[1].name = "users";
  EXPECT_EQ(c.users(), nullptr);
  c.collections[1].auth = true;
  EXPECT_EQ(c.users(), &c.collections[1]);
}

TEST(AuthSettings, DefaultsAreTheDocumentedOnes) {
  const AuthSettings a;
  EXPECT_EQ(a.signup, AuthSettings::Signup::kOpen);
  EXPECT_EQ(a.password_min_length, 12);
  EXPECT_EQ(a.access_ttl_s, 15 * 60);
  EXPECT_EQ(a.refresh_ttl_s, 30 * 86400);
  EXPECT_EQ(a.session_idle_s, 7 * 86400);
  EXPECT_EQ(a.session_absolute_s, 30 * 86400);
  EXPECT_FALSE(a.default_role.has_value());
}

TEST(AuthSettings, HasRoleComparesExactly) {
  AuthSettings a;
  a.roles = {"admin", "editor"};
  EXPECT_TRUE(a.has_role("admin"));
  EXPECT_TRUE(a.has_role("editor"));
  EXPECT_FALSE(a.has_role("Editor"));
  EXPECT_FALSE(a.has_role("edit"));
}

}  // namespace
}  // namespace slipway::model
