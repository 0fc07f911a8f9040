// Recovery codes: the way back in when the authenticator is lost. Ten are made at TOTP confirmation, shown once,
// stored as SHA-256 digests (auth/opaque_token.h's token_digest), and each works once.
//
// A code is 16 characters of lower-case base32 (80 random bits) shown in four groups: "k3vq-7mzd-a2xp-q9...".
// 80 bits leave nothing to guess online or to brute-force from a leaked digest, so a plain digest suffices (as for
// every opaque token here). What the user types is normalised first: case, spaces and dashes do not matter.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::auth {

inline constexpr std::size_t kRecoveryCodeCount = 10;
inline constexpr std::size_t kRecoveryCodeChars = 16;

std::vector<std::string> new_recovery_codes();  // kRecoveryCodeCount codes, as shown to the user

// The canonical form (16 lower-case base32 characters) of what a user typed, or nullopt when it cannot be a code.
std::optional<std::string> normalise_recovery_code(std::string_view typed);

// What is stored for a code: the digest of its canonical form.
std::string recovery_code_digest(std::string_view canonical);

}  // namespace slipway::auth
