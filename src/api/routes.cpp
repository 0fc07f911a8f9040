#include "api/routes.h"

namespace slipway::api {
namespace {

bool allowed(const Route& r, http::Method m) {
  switch (m) {
    case http::Method::kGet:
    case http::Method::kHead: return r.get;
    case http::Method::kPost: return r.post;
    case http::Method::kPatch: return r.patch;
    case http::Method::kDelete: return r.del;
    default: return false;
  }
}

RouteMatch found(const Route& r, http::Method m, std::string_view collection = {}, std::string_view id = {}) {
  return RouteMatch{&r, allowed(r, m), collection, id};
}

}  // namespace

RouteMatch match_route(http::Method method, std::string_view path) {
  if (path == "/livez") return found(kRoutes[0], method);
  if (path == "/readyz") return found(kRoutes[1], method);
  if (path == "/metrics") return found(kRoutes[2], method);
  constexpr std::string_view kPrefix = "/api/v1/";
  if (!path.starts_with(kPrefix)) return {};
  std::string_view rest = path.substr(kPrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    if (rest.empty()) return {};
    return found(kRoutes[3], method, rest);
  }
  std::string_view collection = rest.substr(0, slash);
  std::string_view id = rest.substr(slash + 1);
  if (collection.empty() || id.empty() || id.find('/') != std::string_view::npos) return {};
  return found(kRoutes[4], method, collection, id);
}

}  // namespace slipway::api
