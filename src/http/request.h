// Request: what a handler sees of one HTTP request. Our own type, so no Beast header reaches api/.
// Lifetime: owned by the session; valid until the handler's Responder has been called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.h"

namespace slipway::http {

// The methods of RFC 9110 and PATCH (RFC 5789); kOther is any other method, which no route serves (501).
enum class Method : std::uint8_t { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kConnect, kTrace, kOther };
std::string_view method_name(Method m);

struct Request {
  Method method = Method::kGet;
  std::string_view target;  // as received: path + optional "?query"
  std::string_view path;    // target up to '?', not percent-decoded
  std::string_view query;   // after '?', not decoded; empty when absent
  // Header names as received; look them up with header() (case-insensitive).
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string body;
  std::string request_id;   // from a valid X-Request-Id header, else generated
  std::string trace_id;     // 32 hex chars from a valid W3C traceparent, else generated
  std::string parent_span;  // 16 hex chars of the incoming traceparent, or empty
  // The client's address: the peer's, until admit() replaces it with the one a trusted proxy forwarded.
  std::string remote_addr;
  // Who is calling, as the handler's admit() resolved it from the header (anonymous until then).
  Principal caller;
  // Headers admit() wants on every response to this request, whoever writes it (the rate-limit state).
  std::vector<std::pair<std::string, std::string>> response_headers;
  // The session's event loop (http/handler.h): valid while the request is (until its Responder was called).
  // Null outside a session (unit tests).
  const class Continuation* loop = nullptr;

  // First header with this name (ASCII case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  // How many header lines have this name: tells an absent header from an empty one, and finds a repeated one
  // where only one may be given (Authorization).
  std::size_t header_count(std::string_view name) const;
};

}  // namespace slipway::http
