// Text formats shared by the concept loader (checking defaults) and the API (checking input), so a value the
// file may default to is exactly a value a client may send.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace slipway {

// local@domain.tld: one '@', a dotted domain, no spaces, controls or <>(),;\" characters, at most 254 bytes.
bool valid_email(std::string_view s);
// http:// or https:// (scheme case-insensitive) with a host, no spaces, controls or <>"\ characters, ≤ 2048 bytes.
bool valid_url(std::string_view s);

// RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every other byte is %XX (upper
// case). Safe in a path segment, a query value and an application/x-www-form-urlencoded body.
std::string percent_encode(std::string_view s);

}  // namespace slipway
