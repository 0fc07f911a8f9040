#include "http/ids.h"

#include <cstdint>
#include <random>

namespace slipway::http {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// splitmix64: one multiply-xorshift chain per call; plenty for ids.
struct Rng {
  std::uint64_t state;
  std::uint64_t prefix;   // request-id prefix of this thread
  std::uint64_t counter = 0;
  Rng() {
    std::random_device rd;
    state = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    prefix = next();
  }
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

Rng& rng() {
  thread_local Rng r;
  return r;
}

void put_hex(char* out, std::uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 0xf];
    v >>= 4;
  }
}

bool lower_hex(std::string_view s, bool& all_zero) {
  all_zero = true;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    all_zero = all_zero && c == '0';
  }
  return true;
}

}  // namespace

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void generate_request_id(std::string& out) {
  Rng& r = rng();
  out.resize(24);
  put_hex(out.data(), r.prefix, 12);
  put_hex(out.data() + 12, ++r.counter, 12);
}

bool parse_traceparent(std::string_view h, TraceParent& out) {
  if (h.size() != 55 || h[0] != '0' || h[1] != '0' || h[2] != '-' || h[35] != '-' || h[52] != '-') return false;
  bool zero_trace, zero_parent, ignored;
  const std::string_view trace = h.substr(3, 32), parent = h.substr(36, 16), flags = h.substr(53, 2);
  if (!lower_hex(trace, zero_trace) || !lower_hex(parent, zero_parent) || !lower_hex(flags, ignored)) return false;
  if (zero_trace || zero_parent) return false;
  out = {trace, parent, flags};
  return true;
}

void generate_trace_id(std::string& out) {
  Rng& r = rng();
  out.resize(32);
  std::uint64_t hi = r.next();
  const std::uint64_t lo = r.next();
  if (hi == 0 && lo == 0) hi = 1;
  put_hex(out.data(), hi, 16);
  put_hex(out.data() + 16, lo, 16);
}

void generate_span_id(char (&out)[16]) {
  std::uint64_t v = rng().next();
  if (v == 0) v = 1;
  put_hex(out, v, 16);
}

}  // namespace slipway::http
