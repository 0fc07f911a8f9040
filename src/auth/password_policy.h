// What a new password must be (NIST SP 800-63B §5.1.1.2, "memorized secret verifiers"): long enough, not absurdly
// long, and not a commonly used password. No composition rules (no "one digit, one symbol") and no expiry: NIST
// advises against both, as they make passwords more predictable, not stronger.
//
// Lengths count Unicode code points of valid UTF-8 (core/utf8.h), not bytes: 12 emoji are 12 characters.
// The policy only checks; the concept loader guarantees min_length >= kMinPasswordLengthFloor and
// max_length >= kMaxPasswordLengthFloor (and min <= max) before a policy reaches this code.
// Thread safety: pure functions (the common-password table is built once, see common_passwords.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

inline constexpr int kMinPasswordLengthFloor = 8;   // SP 800-63B: at least 8 characters, never fewer
inline constexpr int kMaxPasswordLengthFloor = 64;  // SP 800-63B: at least 64 characters must be accepted

struct PasswordPolicy {
  int min_length = 12;    // code points
  int max_length = 1024;  // code points; bounds the work done before hashing (4 KiB of UTF-8 at most)
};

// nullopt when `password` is acceptable, otherwise a short message for the 422 problem, to follow the field name:
//   "is not valid UTF-8", "must be at least 12 characters", "must be at most 1024 characters",
//   "is one of the 10,000 most common passwords" (compared after ASCII lower-casing; see common_passwords.h).
// Checked in that order; the password itself never appears in a message.
std::optional<std::string> check_password(std::string_view password, const PasswordPolicy& policy);

}  // namespace slipway::auth
