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

TEST(Etag, IfMatchAcceptsStrongTagsOnly) {
  std::optional<std::int64_t> v;
  EXPECT_TRUE(parse_if_match("\"3\"", v));
  EXPECT_EQ(v, 3);
  EXPECT_TRUE(parse_if_match(" \"7-abc\" ", v));
  EXPECT_EQ(v, 7);
  EXPECT_TRUE(parse_if_match("*", v));
  EXPECT_FALSE(v.has_value());
  for (const char* bad : {"3", "W/\"3\"", "\"\"", "\"x\"", "\"0\"", "\"-1\"", "\"99999999999999999999\""}) {
    EXPECT_FALSE(parse_if_match(bad, v)) << bad;
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
