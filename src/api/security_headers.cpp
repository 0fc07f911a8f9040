#include "api/security_headers.h"

#include "core/ascii.h"

namespace slipway::api {

SecurityHeaders::SecurityHeaders(const model::SecurityHeaderSettings& settings)
    : html_policy_(settings.html_content_security_policy), referrer_policy_(settings.referrer_policy) {}

void SecurityHeaders::decorate(http::Response& response) const {
  bool has_policy = false;
  for (const auto& [name, value] : response.headers) {
    if (ascii_iequals(name, "Content-Security-Policy")) has_policy = true;
  }
  if (!has_policy) {
    const bool html = ascii_istarts_with(response.content_type, "text/html");
    response.set_header("Content-Security-Policy", html ? html_policy_ : std::string(kApiPolicy));
  }
  response.set_header("Referrer-Policy", referrer_policy_);
}

}  // namespace slipway::api
