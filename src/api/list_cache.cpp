#include "api/list_cache.h"

#include <functional>

namespace slipway::api {

std::string ListCache::key(std::string_view collection, std::string_view query, const Principal& auth) {
  std::string k;
  k.reserve(collection.size() + query.size() + 64);
  k.append(collection).push_back('\0');
  k.append(query).push_back('\0');
  k.append(rule_key(auth));
  return k;
}

ListCache::Shard& ListCache::shard(const std::string& key) { return shards_[std::hash<std::string>{}(key) % kShards]; }

std::optional<std::shared_ptr<const std::string>> ListCache::find(const std::string& key, std::uint64_t epoch) {
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end() || it->second.epoch != epoch) return std::nullopt;
  return it->second.body;
}

void ListCache::insert(std::string key, std::uint64_t epoch, std::shared_ptr<const std::string> body) {
  const std::size_t size = key.size() + body->size();
  if (body->size() > kMaxBodyBytes) return;
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(key); it != s.map.end()) {
    s.bytes -= it->first.size() + it->second.body->size();
    s.map.erase(it);
  }
  if (s.map.size() >= kMaxEntries || s.bytes + size > kMaxShardBytes) {
    s.map.clear();
    s.bytes = 0;
  }
  s.bytes += size;
  s.map.emplace(std::move(key), Entry{epoch, std::move(body)});
}

}  // namespace slipway::api
