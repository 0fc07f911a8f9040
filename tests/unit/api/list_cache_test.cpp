#include "api/list_cache.h"

#include <gtest/gtest.h>

namespace slipway::api {
namespace {

TEST(ListCache, HitsOnlyAtTheSameEpochAndCaller) {
  ListCache cache;
  Principal anon, admin;
  admin = Principal::bootstrap_admin();
  const std::string k = ListCache::key("posts", "limit=5", anon);
  cache.insert(k, 7, std::make_shared<const std::string>("body"));
  ASSERT_TRUE(cache.find(k, 7).has_value());
  EXPECT_EQ(**cache.find(k, 7), "body");
  EXPECT_FALSE(cache.find(k, 8).has_value());  // a write committed since
  EXPECT_FALSE(cache.find(ListCache::key("posts", "limit=5", admin), 7).has_value());
  Principal user;
  user.kind = PrincipalKind::kUser;
  user.id = "u1";
  EXPECT_NE(ListCache::key("posts", "limit=5", user), k);
  // Two users whose rules tell them apart by role never share an entry (rule_key covers every property rules see).
  Principal editor = user;
  editor.set_roles({"editor"});
  EXPECT_NE(ListCache::key("posts", "limit=5", editor), ListCache::key("posts", "limit=5", user));
}

TEST(ListCache, OversizedBodiesAreNotCached) {
  ListCache cache;
  const std::string k = ListCache::key("posts", "limit=500", {});
  cache.insert(k, 1, std::make_shared<const std::string>(300 * 1024, 'x'));
  EXPECT_FALSE(cache.find(k, 1).has_value());
}

TEST(ListCache, ManyDistinctLargeQueriesStayWithinTheByteBudget) {
  ListCache cache;
  constexpr int kQueries = 2000;
  constexpr std::size_t kBody = 200 * 1024;
  for (int i = 0; i < kQueries; ++i)
    cache.insert(ListCache::key("posts", "q=" + std::to_string(i), {}), 1, std::make_shared<const std::string>(kBody, 'x'));
  std::size_t held = 0;
  for (int i = 0; i < kQueries; ++i) held += cache.find(ListCache::key("posts", "q=" + std::to_string(i), {}), 1).has_value();
  EXPECT_GT(held, 0u);
  EXPECT_LE(held * kBody, 8u * 4 * 1024 * 1024);  // 8 shards of at most 4 MiB each
}

}  // namespace
}  // namespace slipway::api
