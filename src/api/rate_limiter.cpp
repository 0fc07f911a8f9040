#include "api/rate_limiter.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "auth/sodium_init.h"

namespace slipway::api {
namespace {

constexpr std::int64_t kNsPerS = 1'000'000'000;

std::int64_t ceil_seconds(std::int64_t ns) { return ns <= 0 ? 0 : (ns + kNsPerS - 1) / kNsPerS; }

}  // namespace

RateLimiter::RateLimiter(std::size_t slots) : stripes_(std::make_unique<std::array<std::mutex, kStripes>>()) {
  std::size_t n = kWays;
  while (n < slots) n <<= 1;
  slots_.reset(static_cast<Slot*>(std::calloc(n, sizeof(Slot))));
  if (!slots_) throw std::bad_alloc();
  slot_count_ = n;
  set_mask_ = n / kWays - 1;
  auth::ensure_sodium();
  randombytes_buf(hash_key_.data(), hash_key_.size());
}

void RateLimiter::Free::operator()(Slot* p) const noexcept { std::free(p); }

std::uint64_t RateLimiter::key(std::uint32_t policy, std::string_view identity) const {
  thread_local std::string buffer;
  buffer.assign(reinterpret_cast<const char*>(&policy), sizeof policy);
  buffer.append(identity);
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size(), hash_key_.data());
  std::uint64_t h = 0;
  std::memcpy(&h, out, sizeof h);
  return h == 0 ? 1 : h;
}

RateDecision RateLimiter::take(std::uint64_t key, const RateQuota& quota, std::int64_t now_ns) {
  const std::int64_t window = quota.window_s * kNsPerS;
  const std::int64_t interval = std::max<std::int64_t>(1, window / quota.quota);  // T
  const std::size_t set = static_cast<std::size_t>(key) & set_mask_;
  Slot* ways = &slots_[set * kWays];
  std::lock_guard lock((*stripes_)[set % kStripes]);

  Slot* slot = nullptr;
  Slot* free = nullptr;     // empty, or a bucket that is full again
  Slot* nearest = nullptr;  // the partly used bucket closest to full
  for (std::size_t i = 0; i < kWays; ++i) {
    Slot& s = ways[i];
    if (s.key == key) {
      slot = &s;
      break;
    }
    if (s.key == 0 || s.tat <= now_ns) {
      if (!free) free = &s;
    } else if (!nearest || s.tat < nearest->tat) {
      nearest = &s;
    }
  }
  if (!slot) {
    slot = free ? free : nearest;
    if (!free) evictions_.fetch_add(1, std::memory_order_relaxed);
    slot->key = key;
    slot->tat = now_ns;
  }

  const std::int64_t tat = std::max(slot->tat, now_ns) + interval;
  RateDecision d;
  if (tat - now_ns > window) {  // refused: the bucket is empty
    d.allowed = false;
    d.remaining = 0;
    d.reset_s = ceil_seconds(slot->tat - now_ns);
    d.retry_after_s = std::max<std::int64_t>(1, ceil_seconds(tat - now_ns - window));
    return d;
  }
  slot->tat = tat;
  d.allowed = true;
  d.remaining = static_cast<std::uint32_t>((window - (tat - now_ns)) / interval);
  d.reset_s = ceil_seconds(tat - now_ns);
  return d;
}

}  // namespace slipway::api
