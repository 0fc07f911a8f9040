// ListCache: rendered list responses for repeated identical queries, valid while its epoch has not moved. The
// epoch moves on every change storage's change feed publishes (storage/change_feed.h: after commit, before the
// write is answered), so any committed write anywhere invalidates every entry and relation paths, expand and
// cascades can never serve stale rows. Queries whose filter or rules use @now are never cached (the caller decides).
// Key: collection, the raw query string, and who asks (rule_key: everything rules can see of the caller).
// Bounded by bytes, not only entries: a body over kMaxBodyBytes is never cached, and a shard past kMaxShardBytes
// (or kMaxEntries) is cleared, so distinct large queries cannot grow memory past kShards * kMaxShardBytes.
// Thread safety: all methods from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/principal.h"

namespace slipway::api {

class ListCache {
 public:
  static std::string key(std::string_view collection, std::string_view query, const Principal& auth);
  // Read it before computing a list to cache; moved by on_change().
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // The change feed's subscriber: every change invalidates every entry.
  void on_change() { epoch_.fetch_add(1, std::memory_order_acq_rel); }
  // The body cached for `key` at exactly `epoch`, or nullopt.
  std::optional<std::shared_ptr<const std::string>> find(const std::string& key, std::uint64_t epoch);
  // `epoch` must have been read before the list was computed.
  void insert(std::string key, std::uint64_t epoch, std::shared_ptr<const std::string> body);

 private:
  static constexpr std::size_t kShards = 8;
  static constexpr std::size_t kMaxEntries = 512;
  static constexpr std::size_t kMaxBodyBytes = 256 * 1024;
  static constexpr std::size_t kMaxShardBytes = 4 * 1024 * 1024;
  struct Entry {
    std::uint64_t epoch;
    std::shared_ptr<const std::string> body;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> map;  // GUARDED_BY(mu)
    std::size_t bytes = 0;                        // GUARDED_BY(mu): keys + bodies held
  };
  Shard& shard(const std::string& key);
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace slipway::api
