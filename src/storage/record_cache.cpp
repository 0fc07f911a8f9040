#include "storage/record_cache.h"

#include <functional>

namespace slipway::storage {

RecordCache::RecordCache(std::size_t collections, std::size_t max_entries_per_collection)
    : max_per_shard_(std::max<std::size_t>(1, max_entries_per_collection / kShards)) {
  collections_.reserve(collections);
  for (std::size_t i = 0; i < collections; ++i) collections_.push_back(std::make_unique<PerCollection>());
}

RecordCache::Shard& RecordCache::shard(std::size_t collection, std::string_view id) {
  return collections_[collection]->shards[std::hash<std::string_view>{}(id) % kShards];
}

std::uint64_t RecordCache::epoch(std::size_t collection) const {
  return collections_[collection]->epoch.load(std::memory_order_seq_cst);
}

std::optional<RecordCache::Entry> RecordCache::find(std::size_t collection, std::string_view id) {
  Shard& s = shard(collection, id);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(id));
  if (it == s.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second;
}

void RecordCache::insert(std::size_t collection, std::uint64_t epoch_at_load, Entry entry) {
  Shard& s = shard(collection, entry.record->id);
  std::lock_guard lock(s.mu);
  if (epoch(collection) != epoch_at_load) return;  // a write landed since the row was read
  if (s.map.size() >= max_per_shard_) s.map.clear();
  std::string key = entry.record->id;
  s.map.insert_or_assign(std::move(key), std::move(entry));
}

void RecordCache::invalidate(std::size_t collection, std::string_view id) {
  collections_[collection]->epoch.fetch_add(1, std::memory_order_seq_cst);  // before the erase: see the header
  Shard& s = shard(collection, id);
  std::lock_guard lock(s.mu);
  s.map.erase(std::string(id));
}

void RecordCache::invalidate_all(std::size_t collection) {
  collections_[collection]->epoch.fetch_add(1, std::memory_order_seq_cst);
  for (Shard& s : collections_[collection]->shards) {
    std::lock_guard lock(s.mu);
    s.map.clear();
  }
}

}  // namespace slipway::storage
