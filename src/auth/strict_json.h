// Parses the JSON objects inside a JWS (header, claims) strictly: RFC 8259 only (no comments, trailing commas or
// invalid UTF-8), bounded nesting, and no duplicate member names at any depth. Boost.JSON alone keeps the last of
// duplicate names, and a parser elsewhere may keep the first: refusing them (RFC 7515 §5.2 allows it) means no two
// readers of one token can disagree on, say, its "alg" or "sub".
// Thread safety: a pure function.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

inline constexpr int kMaxJsonDepth = 8;  // a JWS header or claim set never nests deeper

// The object `text` holds, or nullopt with `why` saying what is wrong (for a log; never echoes the text).
std::optional<boost::json::object> parse_strict_json_object(std::string_view text, std::string& why);

}  // namespace slipway::auth
