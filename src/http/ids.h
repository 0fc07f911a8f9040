// Request and trace identifiers: validation of what a client sends, fast generation of our own.
// Generation uses a per-thread PRNG seeded once from std::random_device: unique enough for correlation, not a
// secret (never use these ids for anything security-relevant).
// Thread safety: all functions may be called from any thread.
#pragma once

#include <string>
#include <string_view>

namespace slipway::http {

// [A-Za-z0-9._-]{1,64}: what we accept from a client's X-Request-Id (anything else is replaced).
bool valid_request_id(std::string_view id);
// 24 chars: 12 hex of a per-thread random prefix + 12 hex of a per-thread counter.
void generate_request_id(std::string& out);

struct TraceParent {
  std::string_view trace_id;   // 32 lowercase hex, not all zero
  std::string_view parent_id;  // 16 lowercase hex, not all zero
  std::string_view flags;      // 2 lowercase hex
};
// W3C Trace Context version 00: "00-<32 hex>-<16 hex>-<2 hex>". False for anything else.
bool parse_traceparent(std::string_view header, TraceParent& out);
void generate_trace_id(std::string& out);  // 32 lowercase hex, never all zero
void generate_span_id(char (&out)[16]);    // 16 lowercase hex, never all zero

}  // namespace slipway::http
