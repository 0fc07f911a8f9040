#include "api/auth_common.h"

#include "api/problem_json.h"
#include "api/record_input.h"
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

Result<std::vector<std::string>> required_fields(std::string_view body, std::span<const std::string_view> names,
                                                 std::size_t max_bytes) {
  auto fields = parse_string_fields(body, names, max_bytes);
  if (!fields) return std::move(fields).error();
  std::vector<std::string> missing, out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!(*fields)[i]) missing.emplace_back(names[i]);
    else out.push_back(std::move(*(*fields)[i]));
  }
  if (!missing.empty()) return required(std::move(missing));
  return out;
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
