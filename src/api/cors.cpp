#include "api/cors.h"

#include <algorithm>

#include "api/problem_json.h"
#include "core/ascii.h"

namespace slipway::api {
namespace {

constexpr std::string_view kPreflightVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Adds `value` to the response's Vary header, or adds the header.
void add_vary(http::Response& r, std::string_view value) {
  for (auto& [name, existing] : r.headers) {
    if (!ascii_iequals(name, "Vary")) continue;
    existing.append(", ");
    existing.append(value);
    return;
  }
  r.set_header("Vary", std::string(value));
}

}  // namespace

Cors::Cors(const model::CorsSettings& settings)
    : settings_(settings),
      allow_methods_(join(settings.methods)),
      allow_headers_(join(settings.headers)),
      expose_headers_(join(settings.expose_headers)),
      max_age_(settings.max_age ? std::to_string(*settings.max_age) : std::string()) {}

bool Cors::is_preflight(const http::Request& request) {
  return request.method == http::Method::kOptions && request.header_count("Origin") > 0 &&
         request.header_count("Access-Control-Request-Method") > 0;
}

bool Cors::origin_allowed(std::string_view origin) const {
  if (settings_.any_origin()) return true;
  // Byte for byte: the loader only accepts origins in the form browsers serialise them.
  return std::find(settings_.origins.begin(), settings_.origins.end(), origin) != settings_.origins.end();
}

bool Cors::method_allowed(std::string_view method) const {
  // The CORS-safelisted methods pass a browser's check whatever the answer lists.
  if (method == "GET" || method == "HEAD" || method == "POST") return true;
  return std::any_of(settings_.methods.begin(), settings_.methods.end(),
                     [&](const std::string& m) { return m == method || m == "*"; });
}

std::string Cors::refused_header(std::string_view requested) const {
  const bool any = std::find(settings_.headers.begin(), settings_.headers.end(), "*") != settings_.headers.end();
  while (!requested.empty()) {
    const std::size_t comma = requested.find(',');
    std::string name(trim_ows(requested.substr(0, comma)));
    requested = comma == std::string_view::npos ? std::string_view() : requested.substr(comma + 1);
    if (name.empty()) continue;
    ascii_to_lower(name);
    const bool listed = std::find(settings_.headers.begin(), settings_.headers.end(), name) != settings_.headers.end();
    // A browser never lets "*" stand for Authorization: it must be named.
    if (!listed && !(any && name != "authorization")) return name;
  }
  return {};
}

http::Response Cors::preflight(const http::Request& request, std::string_view route) const {
  const std::string_view origin = request.header("Origin");
  const std::string_view method = request.header("Access-Control-Request-Method");
  std::string refusal;
  if (request.header_count("Origin") > 1 || !origin_allowed(origin)) {
    refusal = "Cross-origin requests from this origin are not allowed.";
  } else if (!method_allowed(method)) {
    refusal = "Cross-origin requests may not use the method '" + std::string(method.substr(0, 32)) + "'.";
  } else if (std::string header = refused_header(request.header("Access-Control-Request-Headers")); !header.empty()) {
    refusal = "Cross-origin requests may not send the header '" + header.substr(0, 64) + "'.";
  }
  http::Response r;
  if (!refusal.empty()) {
    // 403 rather than a bare 204: a developer looking at the failed preflight sees why. Without any
    // Access-Control-Allow-* header the browser refuses the actual request either way.
    r = problem_response(Problem::make(ProblemCode::kForbidden, std::move(refusal)), request.request_id);
  } else {
    r.status = 204;
    r.set_header("Access-Control-Allow-Origin", settings_.any_origin() ? std::string("*") : std::string(origin));
    if (settings_.credentials) r.set_header("Access-Control-Allow-Credentials", "true");
    if (!allow_methods_.empty()) r.set_header("Access-Control-Allow-Methods", allow_methods_);
    if (!allow_headers_.empty()) r.set_header("Access-Control-Allow-Headers", allow_headers_);
    if (!max_age_.empty()) r.set_header("Access-Control-Max-Age", max_age_);
  }
  r.route = route;
  r.set_header("Vary", std::string(kPreflightVary));
  return r;
}

void Cors::decorate(const http::Request& request, http::Response& response) const {
  if (!enabled() || is_preflight(request)) return;
  if (settings_.any_origin()) {  // the same answer for every origin: nothing varies, any cache may share it
    response.set_header("Access-Control-Allow-Origin", "*");
    if (!expose_headers_.empty()) response.set_header("Access-Control-Expose-Headers", expose_headers_);
    return;
  }
  // Whether the header is there depends on Origin, so even a response without it (no Origin, a refused one) says
  // so: a shared cache must not serve it to an allowed origin, nor an allowed origin's response to another.
  add_vary(response, "Origin");
  const std::string_view origin = request.header("Origin");
  if (origin.empty() || request.header_count("Origin") > 1 || !origin_allowed(origin)) return;
  response.set_header("Access-Control-Allow-Origin", std::string(origin));
  if (settings_.credentials) response.set_header("Access-Control-Allow-Credentials", "true");
  if (!expose_headers_.empty()) response.set_header("Access-Control-Expose-Headers", expose_headers_);
}

}  // namespace slipway::api
