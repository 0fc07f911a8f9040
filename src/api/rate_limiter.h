// RateLimiter: token buckets, one per key, in a fixed amount of memory.
//
// A bucket of `quota` requests per `window`, refilled continuously (quota / window per second), is kept the way
// GCRA (the generic cell rate algorithm) keeps it: as one time per key, the "theoretical arrival time" `tat`, rather
// than a token count and a timestamp. The bucket is full when tat <= now; each admitted request moves tat one
// emission interval T = window / quota later; a request is refused when that would put tat more than one window
// ahead of now. So a quiet client may send `quota` requests at once, then one every T.
//
//        now                     tat        now + window
//   ──────┼───────────────────────┼───────────────┼──────▶ time
//         │◄── used: (tat-now)/T ─►│◄─ remaining ─►│        refused when tat + T - now > window
//
// Memory: `slots` entries of 16 bytes (key hash, tat), allocated once with calloc, whose large blocks are fresh
// zeroed pages from the kernel: a page becomes resident only when a key lands in it, so an idle server or one with a
// handful of clients holds a few KiB of the 4 MiB, and a flood of distinct addresses at most the 4 MiB.
// The table is set-associative (a key may sit in one of 8 slots of its set): a missing key takes a slot that is
// empty or whose bucket is full again — a full bucket is the same as no entry, so forgetting it loses nothing — and
// only when all 8 hold partly used buckets is the one nearest to full evicted (counted in evictions()). Millions of
// distinct clients therefore cost no memory, only fairness among themselves: an evicted client starts over with a
// full bucket, which is what a new address gets anyway. Keys are hashed with SipHash under a random key made at
// construction, so nobody can aim many addresses at one set to push a given client out.
//
// Time: callers pass `now` (steady nanoseconds), so tests need no clock.
// Thread safety: take() may be called from every event loop at once (a mutex per stripe of sets).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

namespace slipway::api {

struct RateQuota {
  std::uint32_t quota = 0;    // requests a full bucket holds (> 0)
  std::int64_t window_s = 0;  // seconds to refill it from empty (> 0)
};

struct RateDecision {
  bool allowed = false;
  std::uint32_t remaining = 0;     // requests left in the bucket after this one
  std::int64_t reset_s = 0;        // seconds until the bucket is full again (rounded up)
  std::int64_t retry_after_s = 0;  // refused: seconds until one request would pass (rounded up, at least 1)
};

class RateLimiter {
 public:
  static constexpr std::size_t kWays = 8;
  static constexpr std::size_t kDefaultSlots = std::size_t{1} << 18;  // 4 MiB

  // `slots` is rounded up to a power of two, at least kWays.
  explicit RateLimiter(std::size_t slots = kDefaultSlots);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // The bucket key of `identity` (an address, a user id, an API key id) under policy number `policy`.
  std::uint64_t key(std::uint32_t policy, std::string_view identity) const;
  // Takes one request from the bucket of `key`, if it holds one. REQUIRES: quota.quota > 0, quota.window_s > 0.
  RateDecision take(std::uint64_t key, const RateQuota& quota, std::int64_t now_ns);

  // Partly used buckets forgotten to make room since construction.
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  std::size_t slots() const { return slot_count_; }

 private:
  struct Slot {  // all-zero bytes are an empty slot (calloc)
    std::uint64_t key;  // 0: empty (a hash of 0 is stored as 1)
    std::int64_t tat;
  };
  struct Free {
    void operator()(Slot* p) const noexcept;
  };
  static constexpr std::size_t kStripes = 64;

  std::unique_ptr<Slot[], Free> slots_;  // GUARDED_BY(stripes_[set % kStripes]) per set of kWays
  std::size_t slot_count_ = 0;
  std::size_t set_mask_ = 0;
  std::unique_ptr<std::array<std::mutex, kStripes>> stripes_;
  std::array<unsigned char, 16> hash_key_{};
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace slipway::api
