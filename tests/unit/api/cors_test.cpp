#include "api/cors.h"

#include <gtest/gtest.h>

namespace slipway::api {
namespace {

http::Request preflight(std::string_view origin, std::string_view method, std::string_view headers) {
  http::Request r;
  r.method = http::Method::kOptions;
  r.request_id = "req-1";
  r.headers = {{"Origin", origin}, {"Access-Control-Request-Method", method}};
  if (!headers.empty()) r.headers.emplace_back("Access-Control-Request-Headers", headers);
  return r;
}

std::string header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(Cors, RequestedHeadersAreMatchedWithoutCaseAndAroundSpaces) {
  model::CorsSettings s;
  s.origins = {"https://app.example.com"};
  s.headers = {"authorization", "content-type"};
  const Cors cors(s);
  const auto ok = cors.preflight(preflight("https://app.example.com", "POST", " Content-Type ,,\tAUTHORIZATION "), "/r");
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(header(ok, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(cors.preflight(preflight("https://app.example.com", "POST", "content-type, x-other"), "/r").status, 403);
}

TEST(Cors, StarCoversEveryHeaderButAuthorization) {
  model::CorsSettings s;
  s.origins = {"*"};
  s.headers = {"*"};
  const Cors cors(s);
  EXPECT_EQ(cors.preflight(preflight("https://a.example", "GET", "x-anything, content-type"), "/r").status, 204);
  EXPECT_EQ(cors.preflight(preflight("https://a.example", "GET", "authorization"), "/r").status, 403);
}

TEST(Cors, SafelistedMethodsNeedNoListing) {
  model::CorsSettings s;
  s.origins = {"https://app.example.com"};
  const Cors cors(s);
  for (const char* m : {"GET", "HEAD", "POST"}) {
    EXPECT_EQ(cors.preflight(preflight("https://app.example.com", m, ""), "/r").status, 204) << m;
  }
  EXPECT_EQ(cors.preflight(preflight("https://app.example.com", "DELETE", ""), "/r").status, 403);
  EXPECT_EQ(cors.preflight(preflight("https://app.example.com", "patch", ""), "/r").status, 403);
}

TEST(Cors, AnExistingVaryIsExtendedNotReplaced) {
  model::CorsSettings s;
  s.origins = {"https://app.example.com"};
  const Cors cors(s);
  http::Request get;
  get.headers = {{"Origin", "https://app.example.com"}};
  http::Response r;
  r.set_header("Vary", "Accept-Encoding");
  cors.decorate(get, r);
  EXPECT_EQ(header(r, "Vary"), "Accept-Encoding, Origin");
  EXPECT_EQ(header(r, "Access-Control-Allow-Origin"), "https://app.example.com");
}

TEST(Cors, DisabledAddsNothing) {
  const model::CorsSettings s;
  const Cors cors(s);
  http::Request get;
  get.headers = {{"Origin", "https://app.example.com"}};
  http::Response r;
  cors.decorate(get, r);
  EXPECT_TRUE(r.headers.empty());
}

}  // namespace
}  // namespace slipway::api
