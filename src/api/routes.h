// The one route table. The router (match), the access log and metrics (route templates), and later the OpenAPI
// document and rate-limit classes all read it.
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request.h"

namespace slipway::api {

enum class RouteId : std::uint8_t { kLivez, kReadyz, kMetrics, kRecords, kRecord };

struct Route {
  RouteId id;
  std::string_view pattern;  // the template logged and metered: "/api/v1/{collection}/{id}"
  std::string_view allow;    // the Allow header for 405 and OPTIONS: "GET, HEAD, OPTIONS"
  bool get, post, patch, del;
};

inline constexpr Route kRoutes[] = {
    {RouteId::kLivez, "/livez", "GET, HEAD, OPTIONS", true, false, false, false},
    {RouteId::kReadyz, "/readyz", "GET, HEAD, OPTIONS", true, false, false, false},
    {RouteId::kMetrics, "/metrics", "GET, HEAD, OPTIONS", true, false, false, false},
    {RouteId::kRecords, "/api/v1/{collection}", "GET, HEAD, POST, OPTIONS", true, true, false, false},
    {RouteId::kRecord, "/api/v1/{collection}/{id}", "GET, HEAD, PATCH, DELETE, OPTIONS", true, false, true, true},
};

struct RouteMatch {
  const Route* route = nullptr;   // nullptr: no route has this path
  bool method_allowed = false;
  std::string_view collection;
  std::string_view id;
};

RouteMatch match_route(http::Method method, std::string_view path);

}  // namespace slipway::api
