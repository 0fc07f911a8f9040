#include "auth/successor_seal.h"

#include <sodium.h>

#include "auth/base64url.h"

namespace slipway::auth {

SuccessorSeal::SuccessorSeal(const KeyRing& keys) {
  static_assert(sizeof(key_) == crypto_secretbox_KEYBYTES);
  const std::string seed = keys.active().seed_base64url();
  constexpr std::string_view kContext = "slipway refresh successor v1";
  crypto_generichash(key_.data(), key_.size(), reinterpret_cast<const unsigned char*>(kContext.data()),
                     kContext.size(), reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
}

SuccessorSeal::~SuccessorSeal() { sodium_memzero(key_.data(), key_.size()); }

std::string SuccessorSeal::seal(std::string_view token) const {
  std::string out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + token.size(), '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(out.data());
  randombytes_buf(bytes, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(bytes + crypto_secretbox_NONCEBYTES, reinterpret_cast<const unsigned char*>(token.data()),
                        token.size(), bytes, key_.data());
  return base64url_encode(out);
}

std::optional<std::string> SuccessorSeal::open(std::string_view sealed) const {
  auto raw = base64url_decode(sealed);
  if (!raw || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
  std::string out(raw->size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()), bytes + crypto_secretbox_NONCEBYTES,
                                 raw->size() - crypto_secretbox_NONCEBYTES, bytes, key_.data()) != 0)
    return std::nullopt;
  return out;
}

}  // namespace slipway::auth
