// Record ids as slipway makes them (docs/formats.md): UUIDv7 text.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

namespace pg_limit {

// UUIDv7 as slipway makes them (docs/formats.md): 48-bit Unix milliseconds, version 7, a 12-bit counter that
// starts below 0x200 each millisecond, variant 10, random bits. One per loop thread (not thread-safe).
class IdGenerator {
 public:
  IdGenerator() : rng_(std::random_device{}()) {}

  // Fills `id` (36 characters) and returns the milliseconds it carries, which serve as `created`.
  std::int64_t next(std::string& id) {
    std::int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    if (ms <= last_ms_) {
      ms = last_ms_;
      if (++counter_ > 0xfff) {  // the counter overflows: borrow the next millisecond
        ++ms;
        counter_ = static_cast<std::uint32_t>(rng_() & 0x1ff);
      }
    } else {
      counter_ = static_cast<std::uint32_t>(rng_() & 0x1ff);
    }
    last_ms_ = ms;
    std::array<unsigned char, 16> b{};
    for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>(0x70 | (counter_ >> 8));
    b[7] = static_cast<unsigned char>(counter_ & 0xff);
    const std::uint64_t random = rng_();
    for (int i = 8; i < 16; ++i) b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(random >> (8 * (i - 8)));
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));
    static constexpr char kHex[] = "0123456789abcdef";
    id.clear();
    for (std::size_t i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
      id.push_back(kHex[b[i] >> 4]);
      id.push_back(kHex[b[i] & 15]);
    }
    return ms;
  }

 private:
  std::mt19937_64 rng_;
  std::int64_t last_ms_ = 0;
  std::uint32_t counter_ = 0;
};

}  // namespace pg_limit
