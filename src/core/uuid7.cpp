#include "core/uuid7.h"

#include <array>
#include <mutex>
#include <random>

#include "core/clock.h"

namespace slipway {
namespace {

// Process-wide monotonic state: the last timestamp and a 12-bit counter (rand_a) seeded randomly each ms.
std::mutex g_mu;
std::int64_t g_last_ms = 0;
std::uint16_t g_counter = 0;

std::uint64_t random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

std::string Uuid7Generator::generate() {
  std::int64_t ms = clock_.now_ms();
  std::uint16_t counter;
  {
    std::lock_guard lock(g_mu);
    if (ms <= g_last_ms) {
      ms = g_last_ms;
      if (++g_counter > 0x0fff) {  // counter exhausted: borrow the next millisecond
        ++ms;
        g_last_ms = ms;
        g_counter = static_cast<std::uint16_t>(random64() & 0x01ff);
      }
    } else {
      g_last_ms = ms;
      g_counter = static_cast<std::uint16_t>(random64() & 0x01ff);  // leave headroom for increments
    }
    counter = g_counter;
  }
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(ms) >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter >> 8) & 0x0f));
  b[7] = static_cast<std::uint8_t>(counter & 0xff);
  const std::uint64_t r = random64();
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<std::uint8_t>(r >> (56 - 8 * i));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

bool is_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

}  // namespace slipway
