#include "storage/record_cache.h"

#include <gtest/gtest.h>

namespace slipway::storage {
namespace {

std::shared_ptr<const Record> record(const std::string& id, std::size_t payload = 10) {
  auto r = std::make_shared<Record>();
  r->id = id;
  r->values.emplace_back(std::string(payload, 'x'));
  return r;
}

TEST(RecordCache, ServesWhatWasInsertedAtTheCurrentEpoch) {
  RecordCache cache(1);
  cache.insert(0, cache.epoch(0), {record("a"), true});
  auto hit = cache.find(0, "a");
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(hit->visible);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_FALSE(cache.find(0, "b").has_value());
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(RecordCache, RefusesARowReadBeforeAWrite) {
  RecordCache cache(1);
  const auto before = cache.epoch(0);  // a reader notes the epoch, then reads the row ...
  cache.invalidate(0, "a");            // ... while a write to the collection commits
  cache.insert(0, before, {record("a"), true});
  EXPECT_FALSE(cache.find(0, "a").has_value());
}

TEST(RecordCache, InvalidateAllClearsOneCollectionOnly) {
  RecordCache cache(2);
  cache.insert(0, cache.epoch(0), {record("a"), true});
  cache.insert(1, cache.epoch(1), {record("a"), true});
  cache.invalidate_all(0);
  EXPECT_FALSE(cache.find(0, "a").has_value());
  EXPECT_TRUE(cache.find(1, "a").has_value());
}

TEST(RecordCache, LargeRecordsAreNotCachedAndMemoryIsBounded) {
  RecordCache cache(1, 1'000'000);
  cache.insert(0, cache.epoch(0), {record("big", 200 * 1024), true});
  EXPECT_FALSE(cache.find(0, "big").has_value());
  constexpr int kRecords = 1000;
  constexpr std::size_t kPayload = 60 * 1024;
  for (int i = 0; i < kRecords; ++i) cache.insert(0, cache.epoch(0), {record("r" + std::to_string(i), kPayload), true});
  std::size_t held = 0;
  for (int i = 0; i < kRecords; ++i) held += cache.find(0, "r" + std::to_string(i)).has_value();
  EXPECT_GT(held, 0u);
  EXPECT_LE(held * kPayload, 16u * 2 * 1024 * 1024);  // 16 shards of at most 2 MiB each
}

}  // namespace
}  // namespace slipway::storage
