#include "api/auth_common.h"

#include "api/problem_json.h"
#include "core/ascii.h"

namespace slipway::api {

std::string normalised_email(std::string email) {
  ascii_to_lower(email);
  return email;
}

Problem required(std::vector<std::string> names) {
  Problem p = Problem::make(ProblemCode::kUnprocessable, "Some fields are missing.");
  for (auto& n : names) p.errors.push_back({std::move(n), "required", "is required"});
  return p;
}

http::Response json_response(int status, std::string body, std::string_view route, const std::string& user_id) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.route = route;
  r.user_id = user_id;
  r.set_header("Cache-Control", "no-store");
  return r;
}

http::Response no_content(std::string_view route, const std::string& user_id) {
  http::Response r;
  r.status = 204;
  r.route = route;
  r.user_id = user_id;
  r.set_header("Cache-Control", "no-store");
  return r;
}

http::Response throttled_response(std::string_view what, std::int64_t wait_ms, std::string_view request_id,
                                  std::string_view route, const std::string& user_id) {
  const std::int64_t seconds = (wait_ms + 999) / 1000;
  http::Response r = problem_response(
      Problem::make(ProblemCode::kTooManyRequests, std::string(what) + "; try again in " + std::to_string(seconds) +
                                                       (seconds == 1 ? " second." : " seconds.")),
      request_id);
  r.route = route;
  r.user_id = user_id;
  r.set_header("Retry-After", std::to_string(seconds));
  return r;
}

std::string user_agent_of(const http::Request& req) {
  std::string ua(req.header("User-Agent").substr(0, kMaxUserAgent));
  for (char& c : ua)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return ua;
}

}  // namespace slipway::api
