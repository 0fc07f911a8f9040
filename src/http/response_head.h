// Serialises a response's status line and headers (the body is written separately, without a copy).
// Private to src/http. Thread safety: plain functions; the Date cache is per thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/response.h"

namespace slipway::http {

struct HeadOptions {
  bool keep_alive = true;
  bool http10 = false;          // an HTTP/1.0 client: keep-alive must be announced explicitly
  std::string_view request_id;
  std::string_view trace_id;    // 32 hex
  std::string_view trace_flags; // 2 hex; "01" when empty
  std::string_view hsts;        // the Strict-Transport-Security value (responses over TLS only); empty: none
};

// Whether a response with this status carries a body (and Content-Length): not 1xx, 204 or 304.
bool status_has_body(int status);

// Appends "HTTP/1.1 ..." up to and including the blank line to `out`. Adds Date, Content-Type (from
// r.content_type), Content-Length, X-Content-Type-Options: nosniff, Strict-Transport-Security (o.hsts), X-Request-Id,
// traceparent (the trace id and a new span id), Connection. A handler header that would conflict with those (HSTS
// included, also when o.hsts is empty: RFC 6797 forbids it over plain HTTP), or whose name or value could split the
// response (CR, LF, NUL, a non-token name), is skipped; the return value counts them.
std::size_t append_response_head(std::string& out, const Response& r, const HeadOptions& o);

}  // namespace slipway::http
