// Cors: cross-origin access for browsers (the Fetch standard's CORS protocol), from the concept file's `cors:`
// section. Without that section nothing changes: no Access-Control-* header is ever sent, so browsers keep the
// API to its own origin. docs/decisions/0007-cors.md explains the choices.
//
//   preflight  OPTIONS + Origin + Access-Control-Request-Method, answered before authentication and without a
//              body: 204 with Access-Control-Allow-* when the origin, the method and every requested header are
//              allowed; otherwise 403 with none of them (the browser then never sends the actual request).
//   actual     every other response: Access-Control-Allow-Origin (+ -Credentials, -Expose-Headers) when the
//              request's Origin is allowed, and `Vary: Origin` whenever the answer depends on Origin, so a cache
//              never hands one origin's headers to another.
// Thread safety: immutable after construction; called from every event loop at once.
#pragma once

#include <string>
#include <string_view>

#include "core/concept/model.h"
#include "http/request.h"
#include "http/response.h"

namespace slipway::api {

class Cors {
 public:
  explicit Cors(const model::CorsSettings& settings);

  bool enabled() const { return settings_.enabled(); }
  // OPTIONS with Origin and Access-Control-Request-Method: what a browser sends before a non-simple request.
  static bool is_preflight(const http::Request& request);
  // REQUIRES: enabled() and is_preflight(request).
  http::Response preflight(const http::Request& request, std::string_view route) const;
  // Adds the headers of an actual (non-preflight) response; nothing when disabled or for a preflight.
  void decorate(const http::Request& request, http::Response& response) const;

 private:
  bool origin_allowed(std::string_view origin) const;
  bool method_allowed(std::string_view method) const;
  // The first requested header (Access-Control-Request-Headers) that is not allowed, or empty.
  std::string refused_header(std::string_view requested) const;

  const model::CorsSettings& settings_;
  // Header values built once: the lists as they are sent.
  std::string allow_methods_;
  std::string allow_headers_;
  std::string expose_headers_;
  std::string max_age_;
};

}  // namespace slipway::api
