#include "auth/key_ring.h"

#include <sodium.h>

#include <array>

#include "auth/key_file.h"
#include "core/json_writer.h"

namespace slipway::auth {
namespace {

Problem key_file_error(std::string message) { return Problem::make(ProblemCode::kInternal, std::move(message)); }

}  // namespace

Result<KeyRing> KeyRing::from_text(std::string_view text) {
  auto lines = parse_key_file(text, "key file", "an Ed25519 key");
  if (!lines) return std::move(lines).error();
  std::vector<SigningKey> keys;
  for (std::size_t n = 0; n < lines->size(); ++n) {
    SigningKey key = SigningKey::from_seed((*lines)[n].key);
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i].kid() == key.kid())
        return key_file_error("key file line " + std::to_string((*lines)[n].line) + ": the same key as line " +
                              std::to_string((*lines)[i].line));
    keys.push_back(std::move(key));
  }
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
