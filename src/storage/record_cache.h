// RecordCache: an in-process cache of records by id for hot reads (GET /api/v1/{collection}/{id}), invalidated
// by the writer after each commit and before the write is acknowledged, so a client always reads its own writes.
//
// Race guard: a reader takes epoch(collection) *before* it starts its database read and offers the row with that
// epoch; invalidate() bumps the epoch *before* erasing under the shard lock. Whatever the interleaving, a row read
// from a snapshot older than a commit is either refused at insert or erased by the invalidation.
// Assumes slipway is the only writer of the database (it is: one writer per database by design).
// Bounded by entries and bytes: a record over kMaxRecordBytes is never cached; a shard past max_entries/kShards
// entries or kMaxShardBytes is cleared (cheap, rare), so one collection holds at most kShards * kMaxShardBytes.
// Thread safety: every method may be called from any thread.
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
#include <vector>

#include "storage/storage.h"

namespace slipway::storage {

class RecordCache {
 public:
  struct Entry {
    std::shared_ptr<const Record> record;
    bool visible = false;  // whether the collection's view rule admits the row (rules that depend on the row only)
  };

  explicit RecordCache(std::size_t collections, std::size_t max_entries_per_collection = 20000);

  std::uint64_t epoch(std::size_t collection) const;
  std::optional<Entry> find(std::size_t collection, std::string_view id);
  // Dropped when a write to the collection happened since `epoch_at_load` was read.
  void insert(std::size_t collection, std::uint64_t epoch_at_load, Entry entry);
  // Under another key than the record's id (verdicts per caller: id + rule_key). invalidate(collection, id) does not
  // reach such keys: whoever uses them drops the collection with invalidate_all().
  void insert(std::size_t collection, std::uint64_t epoch_at_load, std::string key, Entry entry);
  void invalidate(std::size_t collection, std::string_view id);
  void invalidate_all(std::size_t collection);

  std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMaxRecordBytes = 64 * 1024;
  static constexpr std::size_t kMaxShardBytes = 2 * 1024 * 1024;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> map;  // GUARDED_BY(mu)
    std::size_t bytes = 0;                        // GUARDED_BY(mu): approximate size of the records held
  };
  static std::size_t approximate_size(const Record& r);
  struct PerCollection {
    std::atomic<std::uint64_t> epoch{0};
    std::array<Shard, kShards> shards;
  };
  Shard& shard(std::size_t collection, std::string_view id);

  std::vector<std::unique_ptr<PerCollection>> collections_;
  std::size_t max_per_shard_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace slipway::storage
