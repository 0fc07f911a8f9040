// SecurityHeaders: the headers every response carries against the browser's own mistakes (docs/security.md#security-
// headers), from the concept file's `security_headers:`. The session adds `X-Content-Type-Options: nosniff` itself.
//   Referrer-Policy          no-referrer (configurable): no URL of ours, with its ids and query, leaks to a link's site
//   Content-Security-Policy  HTML: the file's policy (strict by default); anything else: `default-src 'none';
//                            frame-ancestors 'none'; sandbox`, so a JSON body a browser is tricked into rendering
//                            runs nothing and cannot be framed. A handler's own policy is kept.
// Thread safety: immutable after construction; decorate() runs on every event loop at once.
#pragma once

#include <string>

#include "core/concept/model.h"
#include "http/response.h"

namespace slipway::api {

class SecurityHeaders {
 public:
  static constexpr std::string_view kApiPolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

  explicit SecurityHeaders(const model::SecurityHeaderSettings& settings);
  void decorate(http::Response& response) const;

 private:
  std::string html_policy_;
  std::string referrer_policy_;
};

}  // namespace slipway::api
