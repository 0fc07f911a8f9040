// Opaque secrets: session and refresh tokens, e-mail verification and password-reset tokens, and API keys. They
// carry no data; the server looks them up. Only their digests are stored, so a leaked database holds nothing that
// can be presented back.
//
// A plain SHA-256 digest (not a password hash) is enough because every secret made here has at least 128 bits from
// libsodium's randombytes (256 by default): there is nothing to guess, so nothing to slow down.
//
// API key format:  slw_<8 id characters>_<43 secret characters>     (56 characters in all)
//   - "slw_" names the issuer, so secret scanners and people can recognise a leaked key;
//   - the id is 8 characters of lower-case RFC 4648 base32 (a-z, 2-7; 40 random bits): public, shown in listings,
//     and the database lookup key;
//   - the secret is 43 characters of base62 (A-Z, a-z, 0-9; 43 × log2(62) ≈ 256.03 bits), each drawn uniformly.
//   Only letters, digits and '_': a double-click selects the whole key, and no character needs escaping in a URL,
//   a header or a shell.
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

// `bytes` random bytes (libsodium randombytes_buf) in base64url without padding: 43 characters for 32 bytes.
// Use at least 16 bytes for anything that guards access.
std::string random_token(std::size_t bytes = 32);

// The SHA-256 of `token` in lower-case hex (64 characters): what is stored, and what a presented token is looked up
// by. Deterministic, so the lookup is an index search, not a comparison against every row.
std::string token_digest(std::string_view token);

// Equal contents, compared in time that depends only on the lengths (sodium_memcmp); false when lengths differ.
bool constant_time_equal(std::string_view a, std::string_view b);

inline constexpr std::string_view kApiKeyMarker = "slw_";
inline constexpr std::size_t kApiKeyIdLength = 8;
inline constexpr std::size_t kApiKeySecretLength = 43;
inline constexpr std::size_t kApiKeyLength = kApiKeyMarker.size() + kApiKeyIdLength + 1 + kApiKeySecretLength;

struct ApiKeySecret {
  std::string prefix;  // the 8-character id: public, the lookup key
  std::string secret;  // the 43-character secret part
  std::string full;    // "slw_<prefix>_<secret>": shown to the user once; store token_digest(full)
};

// A new API key from fresh randomness. The caller stores prefix and token_digest(full), shows full once, and makes
// a new key if the prefix is already taken (1 in 2^40 per existing key).
ApiKeySecret generate_api_key();

// The parts of a presented API key, or nullopt when `text` is not exactly in the format above (no surrounding
// whitespace, no other case). Malformed keys need no database lookup.
std::optional<ApiKeySecret> parse_api_key(std::string_view text);

}  // namespace slipway::auth
