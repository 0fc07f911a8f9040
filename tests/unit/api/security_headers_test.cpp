#include "api/security_headers.h"

#include <gtest/gtest.h>

namespace slipway::api {
namespace {

std::string header(const http::Response& r, std::string_view name) {
  std::string found;
  int count = 0;
  for (const auto& [n, v] : r.headers) {
    if (n == name) {
      found = v;
      ++count;
    }
  }
  EXPECT_LE(count, 1) << name << " set twice";
  return found;
}

TEST(SecurityHeaders, JsonAndEveryOtherNonHtmlResponseMayRunNothing) {
  SecurityHeaders h{model::SecurityHeaderSettings{}};
  for (const char* type : {"application/json", "application/problem+json", "text/plain; version=0.0.4", ""}) {
    http::Response r;
    r.content_type = type;
    h.decorate(r);
    EXPECT_EQ(header(r, "Content-Security-Policy"), SecurityHeaders::kApiPolicy) << type;
    EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer") << type;
  }
}

TEST(SecurityHeaders, HtmlGetsTheStrictDefaultOrTheFilesPolicy) {
  http::Response page;
  page.content_type = "text/html; charset=utf-8";
  SecurityHeaders{model::SecurityHeaderSettings{}}.decorate(page);
  const std::string policy = header(page, "Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("object-src 'none'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;

  model::SecurityHeaderSettings custom;
  custom.html_content_security_policy = "default-src 'self'; img-src https://cdn.example.com";
  custom.referrer_policy = "strict-origin-when-cross-origin";
  http::Response other;
  other.content_type = "TEXT/HTML";
  SecurityHeaders{custom}.decorate(other);
  EXPECT_EQ(header(other, "Content-Security-Policy"), custom.html_content_security_policy);
  EXPECT_EQ(header(other, "Referrer-Policy"), "strict-origin-when-cross-origin");
}

TEST(SecurityHeaders, AHandlersOwnPolicyIsKept) {
  http::Response r;
  r.content_type = "text/html";
  r.set_header("Content-Security-Policy", "default-src 'none'; style-src 'sha256-abc'");
  SecurityHeaders{model::SecurityHeaderSettings{}}.decorate(r);
  EXPECT_EQ(header(r, "Content-Security-Policy"), "default-src 'none'; style-src 'sha256-abc'");
}

}  // namespace
}  // namespace slipway::api
