// SigningKey: one Ed25519 key pair for signing access tokens (JWS "EdDSA", RFC 8037), named by its RFC 7638 JWK
// thumbprint so the name ("kid") is the same wherever and whenever the key is loaded.
//
// The secret half (RFC 8032's 32-byte seed followed by the public key, as libsodium keeps it) lives in its own
// sodium_malloc() block: guard pages around it, kept out of swap where mlock() is allowed, read-only after the key
// is made, and zeroed by sodium_free() when the key is destroyed. It leaves that block only through seed_base64url(),
// for writing a key file.
// Movable, not copyable; a moved-from key may only be destroyed or assigned to.
// Thread safety: immutable after construction; const methods may be called from any thread at once.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace slipway::auth {

class SigningKey {
 public:
  static constexpr std::size_t kSeedBytes = 32;
  static constexpr std::size_t kPublicKeyBytes = 32;
  static constexpr std::size_t kSignatureBytes = 64;

  // The key pair derived from a 32-byte seed (crypto_sign_seed_keypair). The caller wipes its copy of the seed.
  // Throws std::bad_alloc when sodium_malloc fails (keys are made at start-up, where exceptions are caught once).
  static SigningKey from_seed(std::span<const unsigned char, kSeedBytes> seed);
  // A key pair from a fresh random seed.
  static SigningKey generate();

  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  ~SigningKey();

  const std::string& kid() const { return kid_; }  // RFC 7638 thumbprint, base64url (43 characters)
  const std::string& x() const { return x_; }      // the public key, base64url (the JWK "x" member)
  std::string_view public_key() const;             // the public key, 32 raw bytes

  // A detached Ed25519 signature (64 bytes) over `message`, deterministic (RFC 8032).
  std::string sign(std::string_view message) const;
  // True when `signature` is a valid 64-byte signature over `message` by this key.
  bool verify(std::string_view message, std::string_view signature) const;
  // The secret seed in base64url: only for persisting a key file (KeyRing::to_text).
  std::string seed_base64url() const;

 private:
  SigningKey() = default;

  unsigned char* secret_ = nullptr;  // sodium_malloc'd crypto_sign_SECRETKEYBYTES (64): seed ‖ public key
  std::array<unsigned char, kPublicKeyBytes> public_key_{};
  std::string x_;
  std::string kid_;
};

// The RFC 7638 thumbprint of an Ed25519 public key given as its base64url JWK "x": base64url(SHA-256 of
// {"crv":"Ed25519","kty":"OKP","x":"<x>"}), the required members in lexicographic order without whitespace.
std::string ed25519_jwk_thumbprint(std::string_view x);

}  // namespace slipway::auth
