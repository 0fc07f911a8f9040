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

std::size_t RecordCache::approximate_size(const Record& r) {
  std::size_t n = sizeof(Record) + r.id.size() + r.created.size() + r.updated.size();
  for (const Value& v : r.values) {
    n += sizeof(Value);
    if (const auto* s = std::get_if<std::string>(&v)) n += s->size();
    if (const auto* j = std::get_if<JsonText>(&v)) n += j->text.size();
  }
  return n;
}

void RecordCache::insert(std::size_t collection, std::uint64_t epoch_at_load, Entry entry) {
  std::string key = entry.record->id;
  insert(collection, epoch_at_load, std::move(key), std::move(entry));
}

void RecordCache::insert(std::size_t collection, std::uint64_t epoch_at_load, std::string key, Entry entry) {
  const std::size_t size = approximate_size(*entry.record);
  if (size > kMaxRecordBytes) return;
  Shard& s = shard(collection, key);
  std::lock_guard lock(s.mu);
  if (epoch(collection) != epoch_at_load) return;  // a write landed since the row was read
  if (auto it = s.map.find(key); it != s.map.end()) {
    s.bytes -= approximate_size(*it->second.record);
    s.map.erase(it);
  }
  if (s.map.size() >= max_per_shard_ || s.bytes + size > kMaxShardBytes) {
    s.map.clear();
    s.bytes = 0;
  }
  s.bytes += size;
  s.map.emplace(std::move(key), std::move(entry));
}

void RecordCache::invalidate(std::size_t collection, std::string_view id) {
  collections_[collection]->epoch.fetch_add(1, std::memory_order_seq_cst);  // before the erase: see the header
  Shard& s = shard(collection, id);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(std::string(id)); it != s.map.end()) {
    s.bytes -= approximate_size(*it->second.record);
    s.map.erase(it);
  }
}

void RecordCache::invalidate_all(std::size_t collection) {
  collections_[collection]->epoch.fetch_add(1, std::memory_order_seq_cst);
  for (Shard& s : collections_[collection]->shards) {
    std::lock_guard lock(s.mu);
    s.map.clear();
    s.bytes = 0;
  }
}

}  // namespace slipway::storage
