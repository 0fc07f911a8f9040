#include "auth/strict_json.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

TEST(StrictJson, ParsesAnObject) {
  std::string why;
  auto o = parse_strict_json_object(R"( {"a":1,"b":[true,null,"x"],"c":{"d":-2.5}} )", why);
  ASSERT_TRUE(o) << why;
  EXPECT_EQ(o->at("a").as_int64(), 1);
  EXPECT_EQ(o->at("c").at("d").as_double(), -2.5);
}

TEST(StrictJson, RefusesDuplicateNamesAtAnyDepth) {
  std::string why;
  EXPECT_FALSE(parse_strict_json_object(R"({"alg":"EdDSA","alg":"none"})", why));
  EXPECT_NE(why.find("twice"), std::string::npos);
  EXPECT_FALSE(parse_strict_json_object(R"({"a":{"x":1,"y":2,"x":3}})", why));
  EXPECT_FALSE(parse_strict_json_object(R"({"a":[{"x":1},{"x":2,"x":2}]})", why));
  // An escaped spelling of the same name is the same name.
  EXPECT_FALSE(parse_strict_json_object(R"({"alg":1,"\u0061lg":2})", why));
  // The same name in sibling objects is fine.
  EXPECT_TRUE(parse_strict_json_object(R"({"a":{"x":1},"b":{"x":2},"x":3})", why)) << why;
}

TEST(StrictJson, RefusesWhatIsNotOneStandardJsonObject) {
  std::string why;
  for (std::string_view bad :
       {"", "[]", "\"s\"", "1", "{", R"({"a":1} {"b":2})", R"({"a":1,})", "{/*c*/}", "{\"a\":\"\xff\"}", R"({"a":1}x)"})
    EXPECT_FALSE(parse_strict_json_object(bad, why)) << bad;
  std::string deep = std::string(20, '[');
  EXPECT_FALSE(parse_strict_json_object("{\"a\":" + deep + std::string(20, ']') + "}", why));
}

}  // namespace
}  // namespace slipway::auth
