// Response: what a handler answers. The session adds Date, Server-less defaults, Content-Length,
// X-Request-Id, traceparent and security headers, then writes it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::http {

struct Response {
  int status = 200;
  std::string content_type;   // empty: no Content-Type header (e.g. 204, 304)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (ETag, Location, ...)
  // For the access log and metrics: the route template that matched ("/api/v1/{collection}/{id}"), or
  // "unmatched". Must point at storage that outlives the server (the route table's string literals).
  std::string_view route = "unmatched";
  std::string user_id;  // who made the request, for the access log; empty when anonymous

  void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

}  // namespace slipway::http
