#include "auth/signing_key.h"

#include <sodium.h>

#include <cstdlib>
#include <new>
#include <utility>

#include "auth/base64url.h"
#include "auth/sodium_init.h"
#include "core/sha256.h"

namespace slipway::auth {

static_assert(SigningKey::kSeedBytes == crypto_sign_SEEDBYTES);
static_assert(SigningKey::kPublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(SigningKey::kSignatureBytes == crypto_sign_BYTES);

SigningKey SigningKey::from_seed(std::span<const unsigned char, kSeedBytes> seed) {
  ensure_sodium();
  SigningKey key;
  key.secret_ = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (key.secret_ == nullptr) throw std::bad_alloc();
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_, seed.data());
  sodium_mprotect_readonly(key.secret_);
  key.x_ = base64url_encode(key.public_key());
  key.kid_ = ed25519_jwk_thumbprint(key.x_);
  return key;
}

SigningKey SigningKey::generate() {
  ensure_sodium();
  std::array<unsigned char, kSeedBytes> seed;
  randombytes_buf(seed.data(), seed.size());
  SigningKey key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey::SigningKey(SigningKey&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)),
      public_key_(other.public_key_),
      x_(std::move(other.x_)),
      kid_(std::move(other.kid_)) {}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    if (secret_ != nullptr) sodium_free(secret_);
    secret_ = std::exchange(other.secret_, nullptr);
    public_key_ = other.public_key_;
    x_ = std::move(other.x_);
    kid_ = std::move(other.kid_);
  }
  return *this;
}

SigningKey::~SigningKey() {
  if (secret_ != nullptr) sodium_free(secret_);  // zeroes the block before unmapping it
}

std::string_view SigningKey::public_key() const {
  return {reinterpret_cast<const char*>(public_key_.data()), public_key_.size()};
}

std::string SigningKey::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_);
  return sig;
}

bool SigningKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != crypto_sign_BYTES) return false;
  // libsodium refuses non-canonical S values and small-order points: a valid signature cannot be re-spelled.
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     public_key_.data()) == 0;
}

std::string SigningKey::seed_base64url() const {
  return base64url_encode({reinterpret_cast<const char*>(secret_), crypto_sign_SEEDBYTES});
}

std::string ed25519_jwk_thumbprint(std::string_view x) {
  std::string members = R"({"crv":"Ed25519","kty":"OKP","x":")";
  members.append(x);
  members.append("\"}");
  return base64url_encode(sha256_raw(members));
}

}  // namespace slipway::auth
