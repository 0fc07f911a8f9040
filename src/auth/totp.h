// TOTP (RFC 6238 over RFC 4226 HOTP): the second factor of MFA (docs/security.md#multi-factor-login).
//
// Parameters are the ones every authenticator app accepts without asking: HMAC-SHA1, 6 digits, 30-second steps,
// a 160-bit secret (RFC 4226 §4 recommends at least 160). A code is accepted for its own step and one step either
// side (clocks drift; a code typed just before the step turned), and only for a step later than the last one the
// factor accepted: a code, once used, is refused for the rest of its window — and so is every older one (replay).
//
// The secret is shown once in base32 (RFC 4648, no padding, upper case, as otpauth:// URIs carry it) and stored
// sealed (auth/data_keys.h); this file never sees storage.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

inline constexpr std::int64_t kTotpStepSeconds = 30;
inline constexpr int kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;
inline constexpr int kTotpTolerance = 1;  // steps accepted either side of the current one

// RFC 4648 base32: encode upper case without padding; decode accepts either case, ignores spaces and trailing '='
// (what people paste), refuses anything else.
std::string base32_encode(std::string_view bytes);
std::optional<std::string> base32_decode(std::string_view text);

// A fresh secret of kTotpSecretBytes random bytes (libsodium randombytes).
std::string new_totp_secret();

// The time step of `now_ms` (floor(unix seconds / 30)).
std::int64_t totp_step(std::int64_t now_ms);

// HOTP(secret, step) truncated to `digits` decimal digits, zero-padded ("000123").
std::string totp_code(std::string_view secret, std::int64_t step, int digits = kTotpDigits);

// The step `code` belongs to, if it is exactly kTotpDigits ASCII digits, matches one of the steps
// now-1 … now+1, and that step is later than `last_step` (the factor's last accepted step; nullopt: none yet).
// Compares every candidate in constant time and always computes all three, so timing tells nothing.
std::optional<std::int64_t> totp_verify(std::string_view secret, std::string_view code, std::int64_t now_ms,
                                        std::optional<std::int64_t> last_step);

// otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30 (the Key Uri Format
// authenticator apps read), label and parameters percent-encoded.
std::string otpauth_uri(std::string_view issuer, std::string_view account, std::string_view secret);

}  // namespace slipway::auth
