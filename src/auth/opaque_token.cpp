#include "auth/opaque_token.h"

#include <sodium.h>

#include <vector>

#include "auth/base64url.h"
#include "auth/sodium_init.h"
#include "core/sha256.h"

namespace slipway::auth {
namespace {

constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";  // RFC 4648 §6, lower case
constexpr std::string_view kBase62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// `n` characters drawn uniformly from `alphabet` (randombytes_uniform has no modulo bias).
std::string random_chars(std::string_view alphabet, std::size_t n) {
  std::string out(n, '\0');
  for (char& c : out) c = alphabet[randombytes_uniform(static_cast<std::uint32_t>(alphabet.size()))];
  return out;
}

bool all_in(std::string_view s, std::string_view alphabet) {
  return s.find_first_not_of(alphabet) == std::string_view::npos;
}

}  // namespace

std::string random_token(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string token = base64url_encode({reinterpret_cast<const char*>(buf.data()), buf.size()});
  sodium_memzero(buf.data(), buf.size());
  return token;
}

std::string token_digest(std::string_view token) { return sha256_hex(token); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

ApiKeySecret generate_api_key() {
  ensure_sodium();
  ApiKeySecret key;
  key.prefix = random_chars(kBase32, kApiKeyIdLength);
  key.secret = random_chars(kBase62, kApiKeySecretLength);
  key.full = std::string(kApiKeyMarker) + key.prefix + "_" + key.secret;
  return key;
}

std::optional<ApiKeySecret> parse_api_key(std::string_view text) {
  if (text.size() != kApiKeyLength || text.substr(0, kApiKeyMarker.size()) != kApiKeyMarker) return std::nullopt;
  const std::string_view id = text.substr(kApiKeyMarker.size(), kApiKeyIdLength);
  const std::size_t sep = kApiKeyMarker.size() + kApiKeyIdLength;
  const std::string_view secret = text.substr(sep + 1);
  if (text[sep] != '_' || !all_in(id, kBase32) || !all_in(secret, kBase62)) return std::nullopt;
  return ApiKeySecret{std::string(id), std::string(secret), std::string(text)};
}

}  // namespace slipway::auth
