#include <gtest/gtest.h>

#include "api/query_string.h"
#include "api/record_json.h"
#include "api/routes.h"

namespace slipway::api {
namespace {

TEST(QueryParams, DecodesPercentAndPlus) {
  auto q = QueryParams::parse("filter=title%20~%20%27a+b%27&limit=5", {"filter", "limit"});
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(*q->get("filter"), "title ~ 'a b'");
  EXPECT_EQ(*q->get("limit"), "5");
  EXPECT_FALSE(q->get("sort").has_value());
}

TEST(QueryParams, RejectsUnknownRepeatedAndMalformed) {
  for (const char* bad : {"filters=x", "limit=1&limit=2", "filter=%zz", "filter=%", "filter=%ff%fe", "filter=a%00b"}) {
    auto q = QueryParams::parse(bad, {"filter", "limit"});
    ASSERT_FALSE(q.has_value()) << bad;
    EXPECT_EQ(q.error().code, ProblemCode::kBadRequest);
  }
}

std::optional<storage::IfMatch> if_match(std::vector<std::string_view> lines) {
  http::Request r;
  for (const auto line : lines) r.headers.emplace_back("If-Match", line);
  return if_match_of(r);
}

TEST(Etag, IfMatchNamesTheVersionsOfItsStrongTags) {
  EXPECT_FALSE(if_match({}).has_value());
  EXPECT_EQ(if_match({"\"3\""})->versions, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(if_match({" \"7-abc\" "})->versions, (std::vector<std::int64_t>{7}));
  EXPECT_EQ(if_match({"\"1\", \"2\"", "\"5\""})->versions, (std::vector<std::int64_t>{1, 2, 5}));
  EXPECT_EQ(if_match({"W/\"4\", \"6\""})->versions, (std::vector<std::int64_t>{6}));
  EXPECT_TRUE(if_match({"\"6\""})->matches(6));
  EXPECT_FALSE(if_match({"\"6\""})->matches(7));
}

TEST(Etag, IfMatchStarIsNoConditionAndOnlyAlone) {
  EXPECT_FALSE(if_match({"*"}).has_value());
  EXPECT_FALSE(if_match({" * "}).has_value());
  const auto in_list = if_match({"*, \"3\""});  // not valid syntax: matches nothing but the tag it names
  ASSERT_TRUE(in_list);
  EXPECT_EQ(in_list->versions, (std::vector<std::int64_t>{3}));
}

TEST(Etag, IfMatchWithTagsThatCanNeverMatchStrongly) {
  for (const char* never : {"3", "W/\"3\"", "\"\"", "\"x\"", "\"0\"", "\"-1\"", "\"99999999999999999999\"", "garbage",
                            ","}) {
    const auto c = if_match({never});
    ASSERT_TRUE(c.has_value()) << never;  // present: a condition, and one no record meets (412, not 400)
    EXPECT_TRUE(c->versions.empty()) << never;
    EXPECT_FALSE(c->matches(3)) << never;
  }
}

TEST(Etag, IfNoneMatchHandlesListsWeakAndStar) {
  EXPECT_TRUE(if_none_match("\"2\"", "\"2\""));
  EXPECT_TRUE(if_none_match("\"1\", W/\"2\"", "\"2\""));
  EXPECT_TRUE(if_none_match("*", "\"2\""));
  EXPECT_FALSE(if_none_match("\"1\"", "\"2\""));
}

}  // namespace
}  // namespace slipway::api
