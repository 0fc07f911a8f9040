// RFC 9457 problem+json responses. The private cause of a Problem never reaches the client.
#pragma once

#include <string_view>

#include "core/problem.h"
#include "http/response.h"

namespace slipway::api {

inline constexpr std::string_view kProblemType = "https://slipway.dev/problems/";

// {"type","title","status","detail","request_id"[,"errors"][,"parameter","position"]}
http::Response problem_response(const Problem& p, std::string_view request_id);

}  // namespace slipway::api
