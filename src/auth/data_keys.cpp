#include "auth/data_keys.h"

#include <sodium.h>

#include "auth/base64url.h"
#include "auth/sodium_init.h"

namespace slipway::auth {

std::string DataKeys::kid_of(const KeyLine& key) {
  // A keyed hash of a fixed label, not of the key itself: the kid says which key, and nothing about it.
  constexpr std::string_view kLabel = "slipway data key id v1";
  unsigned char out[4];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(),
                     key.key.data(), key.key.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string kid;
  for (unsigned char b : out) {
    kid += kHex[b >> 4];
    kid += kHex[b & 15];
  }
  return kid;
}

Result<DataKeys> DataKeys::from_text(std::string_view text) {
  ensure_sodium();
  auto lines = parse_key_file(text, "data key file", "a data key");
  if (!lines) return std::move(lines).error();
  std::vector<Key> keys;
  for (const KeyLine& line : *lines) {
    Key k{kid_of(line), line};
    for (const Key& other : keys)
      if (other.kid == k.kid)
        return Problem::make(ProblemCode::kInternal, "data key file line " + std::to_string(line.line) +
                                                         ": the same key as line " + std::to_string(other.bytes.line));
    keys.push_back(std::move(k));
  }
  return DataKeys(std::move(keys));
}

DataKeys DataKeys::generate() {
  ensure_sodium();
  KeyLine line;
  line.line = 1;
  crypto_aead_xchacha20poly1305_ietf_keygen(line.key.data());
  std::vector<Key> keys;
  keys.push_back({kid_of(line), line});
  return DataKeys(std::move(keys));
}

std::string DataKeys::to_text() const {
  std::string out =
      "# slipway data keys: one base64url 32-byte key per line. The first key encrypts, the others only decrypt:\n"
      "# to rotate, put a new key first and keep the old ones. Losing a key loses what it encrypted. Secret.\n";
  for (const Key& k : keys_) {
    out += "# kid " + k.kid + "\n";
    out += base64url_encode(std::string_view(reinterpret_cast<const char*>(k.bytes.key.data()), k.bytes.key.size()));
    out += '\n';
  }
  return out;
}

std::string DataKeys::seal(std::string_view plaintext, std::string_view associated) const {
  const Key& k = keys_.front();
  std::string box(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
                      crypto_aead_xchacha20poly1305_ietf_ABYTES,
                  '\0');
  auto* bytes = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(bytes, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      bytes + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nullptr, bytes, k.bytes.key.data());
  return k.kid + "." + base64url_encode(box);
}

std::optional<std::string> DataKeys::open(std::string_view sealed, std::string_view associated) const {
  const std::size_t dot = sealed.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view kid = sealed.substr(0, dot);
  const Key* key = nullptr;
  for (const Key& k : keys_)
    if (k.kid == kid) key = &k;
  if (key == nullptr) return std::nullopt;
  auto box = base64url_decode(sealed.substr(dot + 1));
  constexpr std::size_t kOverhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  if (!box || box->size() < kOverhead) return std::nullopt;
  const auto* bytes = reinterpret_cast<const unsigned char*>(box->data());
  std::string out(box->size() - kOverhead, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(out.data()), &len, nullptr,
          bytes + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, box->size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), bytes, key->bytes.key.data()) != 0)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(len));
  return out;
}

}  // namespace slipway::auth
