// What the auth routes (auth_routes.cpp, mfa_routes.cpp) share: limits on secrets in bodies, the answers they give
// alike, and how they read a request's client details.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"
#include "core/result.h"
#include "http/request.h"
#include "http/response.h"

namespace slipway::api {

inline constexpr std::size_t kMaxSecretBytes = 4096;  // a password of 1024 code points is at most 4 KiB of UTF-8
inline constexpr std::size_t kMaxUserAgent = 256;

std::string normalised_email(std::string email);
// 422 naming each missing field.
Problem required(std::vector<std::string> names);
// A body of string fields that are all required (record_input.h's parse_string_fields, then a 422 naming every
// missing one): their values in the order of `names`.
Result<std::vector<std::string>> required_fields(std::string_view body, std::span<const std::string_view> names,
                                                 std::size_t max_bytes);
// An auth answer: never cached (Cache-Control: no-store).
http::Response json_response(int status, std::string body, std::string_view route, const std::string& user_id);
http::Response no_content(std::string_view route, const std::string& user_id);
// 429 with Retry-After: "<what>; try again in N seconds."
http::Response throttled_response(std::string_view what, std::int64_t wait_ms, std::string_view request_id,
                                  std::string_view route, const std::string& user_id);
// The User-Agent as sent, cut to kMaxUserAgent bytes, control characters blanked (it is shown in session lists).
std::string user_agent_of(const http::Request& req);

}  // namespace slipway::api
