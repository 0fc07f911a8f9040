// base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2) for tokens, keys and JWS parts.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

std::string base64url_encode(std::string_view bytes);

// Strict: only the URL-safe alphabet, no padding, no whitespace, and the unused bits of the last character must be
// zero — so every byte string has exactly one accepted spelling (a token cannot be altered without changing bytes).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace slipway::auth
