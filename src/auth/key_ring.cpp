#include "auth/key_ring.h"

#include <sodium.h>

#include <array>

#include "core/json_writer.h"

namespace slipway::auth {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kBlanks) - b + 1);
}

Problem key_file_error(std::string message) { return Problem::make(ProblemCode::kInternal, std::move(message)); }

// Decodes one key line into `seed`: base64url or standard base64, with or without padding, exactly 32 bytes.
bool decode_seed(std::string_view text, std::array<unsigned char, SigningKey::kSeedBytes>& seed) {
  for (const int variant : {sodium_base64_VARIANT_URLSAFE_NO_PADDING, sodium_base64_VARIANT_URLSAFE,
                            sodium_base64_VARIANT_ORIGINAL_NO_PADDING, sodium_base64_VARIANT_ORIGINAL}) {
    std::size_t len = 0;
    if (sodium_base642bin(seed.data(), seed.size(), text.data(), text.size(), nullptr, &len, nullptr, variant) == 0 &&
        len == seed.size())
      return true;
  }
  return false;
}

}  // namespace

Result<KeyRing> KeyRing::from_text(std::string_view text) {
  std::vector<SigningKey> keys;
  std::vector<int> lines;  // keys[i] came from lines[i]
  int line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::array<unsigned char, SigningKey::kSeedBytes> seed;
    const bool ok = decode_seed(line, seed);
    if (!ok) {
      sodium_memzero(seed.data(), seed.size());
      return key_file_error("key file line " + std::to_string(line_no) +
                            ": not an Ed25519 key (expected a 32-byte seed in base64url or base64)");
    }
    SigningKey key = SigningKey::from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i].kid() == key.kid())
        return key_file_error("key file line " + std::to_string(line_no) + ": the same key as line " +
                              std::to_string(lines[i]));
    keys.push_back(std::move(key));
    lines.push_back(line_no);
  }
  if (keys.empty()) return key_file_error("key file holds no key (expected one base64url 32-byte seed per line)");
  return KeyRing(std::move(keys));
}

KeyRing KeyRing::generate() {
  std::vector<SigningKey> keys;
  keys.push_back(SigningKey::generate());
  return KeyRing(std::move(keys));
}

std::string KeyRing::to_text() const {
  std::string out =
      "# slipway access-token signing keys: one base64url Ed25519 seed per line. The first key signs, the others\n"
      "# only verify: to rotate, put a new key first and remove an old one once its tokens have expired. Secret.\n";
  for (const SigningKey& key : keys_) {
    out += "# kid " + key.kid() + "\n";
    out += key.seed_base64url();
    out += '\n';
  }
  return out;
}

std::string KeyRing::jwks_json() const {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("keys").begin_array();
  for (const SigningKey& key : keys_) {
    w.begin_object();
    w.key("kty").string("OKP");
    w.key("crv").string("Ed25519");
    w.key("x").string(key.x());
    w.key("kid").string(key.kid());
    w.key("alg").string("EdDSA");
    w.key("use").string("sig");
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

const SigningKey* KeyRing::find(std::string_view kid) const {
  for (const SigningKey& key : keys_)
    if (key.kid() == kid) return &key;
  return nullptr;
}

}  // namespace slipway::auth
