// DataKeys: the keys that encrypt secrets slipway must be able to read back (today: TOTP secrets; later the
// `sensitive` fields), so that a copy of the database alone reveals none of them.
//
// Sealed form: "<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>", XChaCha20-Poly1305 (libsodium's IETF AEAD) with a
// random 192-bit nonce. The kid (8 hex characters of a keyed hash of the key) names the key that sealed it, so keys
// rotate: put a new key first in the file (it seals from then on) and keep the old ones below it (they still open
// what they sealed). The associated data binds a sealed value to where it belongs (e.g. "totp:<user id>"): moved
// to another row, it no longer opens.
//
// Key file: auth/key_file.h's format, from SLIPWAY_DATA_KEYS or the file SLIPWAY_DATA_KEYS_FILE names (cli/).
// Thread safety: immutable after construction; const methods may be called from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/key_file.h"
#include "core/result.h"

namespace slipway::auth {

class DataKeys {
 public:
  // A Problem (kInternal, start-up message) for a bad line, a repeated key or no key at all; never key material.
  [[nodiscard]] static Result<DataKeys> from_text(std::string_view text);
  static DataKeys generate();  // one fresh key (dev mode; persist it with to_text)
  std::string to_text() const;  // the key file, each key's kid in a comment above it: secret, write it 0600

  std::string seal(std::string_view plaintext, std::string_view associated) const;
  // nullopt: not in the sealed form, sealed under a key this ring does not have, altered, or other associated data.
  std::optional<std::string> open(std::string_view sealed, std::string_view associated) const;
  const std::string& active_kid() const { return keys_.front().kid; }

 private:
  struct Key {
    std::string kid;
    KeyLine bytes;
  };
  explicit DataKeys(std::vector<Key> keys) : keys_(std::move(keys)) {}
  static std::string kid_of(const KeyLine& key);

  std::vector<Key> keys_;  // never empty; keys_[0] seals
};

}  // namespace slipway::auth
