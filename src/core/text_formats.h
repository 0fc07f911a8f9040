// Text formats shared by the concept loader (checking defaults) and the API (checking input), so a value the
// file may default to is exactly a value a client may send.
#pragma once

#include <cstddef>
#include <string_view>

namespace slipway {

// local@domain.tld: one '@', a dotted domain, no spaces, controls or <>(),;\" characters, at most 254 bytes.
bool valid_email(std::string_view s);
// http:// or https:// (scheme case-insensitive) with a host, no spaces, controls or <>"\ characters, ≤ 2048 bytes.
bool valid_url(std::string_view s);

}  // namespace slipway
