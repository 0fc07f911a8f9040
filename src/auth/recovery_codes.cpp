#include "auth/recovery_codes.h"

#include <sodium.h>

#include "auth/opaque_token.h"
#include "auth/sodium_init.h"

namespace slipway::auth {
namespace {
constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
}

std::vector<std::string> new_recovery_codes() {
  ensure_sodium();
  std::vector<std::string> codes;
  for (std::size_t n = 0; n < kRecoveryCodeCount; ++n) {
    std::string code;
    for (std::size_t i = 0; i < kRecoveryCodeChars; ++i) {
      if (i > 0 && i % 4 == 0) code += '-';
      code += kAlphabet[randombytes_uniform(static_cast<std::uint32_t>(kAlphabet.size()))];
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::optional<std::string> normalise_recovery_code(std::string_view typed) {
  if (typed.size() > 64) return std::nullopt;
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (kAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    out += c;
  }
  if (out.size() != kRecoveryCodeChars) return std::nullopt;
  return out;
}

std::string recovery_code_digest(std::string_view canonical) { return token_digest(canonical); }

}  // namespace slipway::auth
