#include "auth/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>

#include "auth/sodium_init.h"
#include "core/text_formats.h"

namespace slipway::auth {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char ch : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 5) {
      out += kBase32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  while (!text.empty() && (text.back() == '=' || text.back() == ' ')) text.remove_suffix(1);
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ') continue;
    const int v = base32_value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string new_totp_secret() {
  ensure_sodium();
  std::string secret(kTotpSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

std::int64_t totp_step(std::int64_t now_ms) {
  const std::int64_t seconds = now_ms >= 0 ? now_ms / 1000 : (now_ms - 999) / 1000;
  return seconds >= 0 ? seconds / kTotpStepSeconds : (seconds - kTotpStepSeconds + 1) / kTotpStepSeconds;
}

std::string totp_code(std::string_view secret, std::int64_t step, int digits) {
  std::array<unsigned char, 8> counter{};
  auto c = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<unsigned char>(c & 0xff);
    c >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter.data(), counter.size(), mac.data(),
       &mac_len);
  // RFC 4226 §5.3 dynamic truncation.
  const unsigned offset = mac[mac_len - 1] & 0x0f;
  const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                               (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                               (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

std::optional<std::int64_t> totp_verify(std::string_view secret, std::string_view code, std::int64_t now_ms,
                                        std::optional<std::int64_t> last_step) {
  if (code.size() != kTotpDigits) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  const std::int64_t now = totp_step(now_ms);
  std::optional<std::int64_t> matched;
  for (std::int64_t step = now - kTotpTolerance; step <= now + kTotpTolerance; ++step) {
    const std::string expected = totp_code(secret, step);
    const bool equal = sodium_memcmp(expected.data(), code.data(), kTotpDigits) == 0;
    if (equal && !matched) matched = step;
  }
  if (!matched || (last_step && *matched <= *last_step)) return std::nullopt;
  return matched;
}

std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret) {
  return "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) +
         "?secret=" + base32_encode(secret) + "&issuer=" + percent_encode(issuer) +
         "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) + "&period=" + std::to_string(kTotpStepSeconds);
}

}  // namespace slipway::auth
