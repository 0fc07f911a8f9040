// SuccessorSeal: keeps a rotated session's new refresh token readable for the short reuse window, so a second tab
// that refreshes with the same old token at the same time gets the same successor instead of ending the session
// (docs/security.md#refresh-tokens). The token is sealed (XSalsa20-Poly1305, libsodium secretbox) under a key
// derived from the active signing key's seed — a secret that lives outside the database — so a copy of the
// database alone reveals no usable refresh token.
// Thread safety: immutable after construction.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "auth/key_ring.h"

namespace slipway::auth {

class SuccessorSeal {
 public:
  explicit SuccessorSeal(const KeyRing& keys);
  ~SuccessorSeal();
  SuccessorSeal(const SuccessorSeal&) = delete;
  SuccessorSeal& operator=(const SuccessorSeal&) = delete;

  std::string seal(std::string_view token) const;  // base64url(nonce ‖ box)
  std::optional<std::string> open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace slipway::auth
