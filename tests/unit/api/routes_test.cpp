#include "api/routes.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace slipway::api {
namespace {

void noop(App&, http::Request&, const RouteMatch&, const Principal&, http::Responder) {}
void other(App&, http::Request&, const RouteMatch&, const Principal&, http::Responder) {}

using M = http::Method;
constexpr std::string_view kParams[] = {"filter", "limit"};

RouteTable table() {
  return RouteTable({
      {"/livez", {{M::kGet, &noop, Access::kPublic, "health", {}}}},
      {"/api/v1/auth/login", {{M::kPost, &other, Access::kAnyone, "auth", {}}}},
      {"/api/v1/{collection}", {{M::kGet, &noop, Access::kAnyone, "read", kParams}, {M::kPost, &noop, Access::kAnyone, "write", {}}}},
      {"/api/v1/{collection}/{id}",
       {{M::kGet, &noop, Access::kAnyone, "read", {}},
        {M::kPatch, &noop, Access::kAnyone, "write", {}},
        {M::kDelete, &noop, Access::kAdmin, "write", {}}}},
  });
}

TEST(RouteTable, MatchesPatternsAndBindsTheirParameters) {
  const RouteTable t = table();
  auto m = t.match(M::kGet, "/api/v1/posts/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.pattern(), "/api/v1/{collection}/{id}");
  EXPECT_EQ(m.param("collection"), "posts");
  EXPECT_EQ(m.param("id"), "abc");
  EXPECT_EQ(m.param("nope"), "");
  ASSERT_NE(m.method, nullptr);
  EXPECT_EQ(m.method->rate_class, "read");
  EXPECT_EQ(t.match(M::kDelete, "/api/v1/posts/abc").method->access, Access::kAdmin);
  auto list = t.match(M::kGet, "/api/v1/posts");
  ASSERT_NE(list.method, nullptr);
  EXPECT_EQ(list.method->params.size(), 2u);
}

TEST(RouteTable, AMethodTheRowDoesNotListIs405WithTheDerivedAllowList) {
  const RouteTable t = table();
  auto m = t.match(M::kPost, "/api/v1/posts/abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.method, nullptr);
  EXPECT_EQ(m.allow, "GET, HEAD, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(t.match(M::kGet, "/api/v1/posts").allow, "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(t.match(M::kGet, "/livez").allow, "GET, HEAD, OPTIONS");
  EXPECT_NE(t.match(M::kHead, "/livez").method, nullptr);  // a GET row answers HEAD
}

TEST(RouteTable, LiteralRowsListedFirstWinOverPatterns) {
  const RouteTable t = table();
  auto m = t.match(M::kPost, "/api/v1/auth/login");
  ASSERT_NE(m.method, nullptr);
  EXPECT_EQ(m.method->handler, &other);
  EXPECT_EQ(t.match(M::kPost, "/api/v1/auth").pattern(), "/api/v1/{collection}");
}

TEST(RouteTable, PathsNoRowMatchesAre404) {
  const RouteTable t = table();
  for (const char* path : {"/api/v1/posts/a/b", "/api/v1/", "/api/v1/posts/", "/api/v2/posts", "", "api/v1/posts",
                           "//", "/livez/", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"}) {
    EXPECT_EQ(t.match(M::kGet, path).route, nullptr) << path;
  }
}

TEST(RouteTable, AMalformedRowStopsStartUp) {
  EXPECT_THROW(RouteTable({{"no-slash", {{M::kGet, &noop, Access::kPublic, "x", {}}}}}), std::invalid_argument);
  EXPECT_THROW(RouteTable({{"/a//b", {{M::kGet, &noop, Access::kPublic, "x", {}}}}}), std::invalid_argument);
  EXPECT_THROW(RouteTable({{"/a", {{M::kGet, nullptr, Access::kPublic, "x", {}}}}}), std::invalid_argument);
  EXPECT_THROW(RouteTable({{"/{a}/{b}/{c}/{d}/{e}", {{M::kGet, &noop, Access::kPublic, "x", {}}}}}),
               std::invalid_argument);
}

}  // namespace
}  // namespace slipway::api
