// Keyset cursor codec. A cursor is sealed: base64url (no padding) of
//   nonce (24 bytes) || crypto_secretbox(JSON array [<sort signature>, <sort key 1>, ..., <sort key n>, <id>])
// taken from the last row of a page, so it is opaque (sort values, hidden ones included, cannot be read) and
// tamper-proof (a changed byte fails authentication). The key is per database (storage/system/secrets.h keeps it in
// _slipway_secrets), so cursors stay valid across restarts. The signature (a hash of the sort spec) makes a cursor
// from one sort order fail cleanly when replayed with another. See docs/formats.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/value.h"

namespace slipway::sql {

// Hash of the canonical sort spec ("-created,title"), stable across versions (FNV-1a 32-bit).
std::uint32_t sort_signature(std::string_view canonical_sort);

// XSalsa20-Poly1305 key (libsodium crypto_secretbox_KEYBYTES).
using CursorKey = std::array<unsigned char, 32>;
CursorKey new_cursor_key();  // random

std::string encode_cursor(const CursorKey& key, std::uint32_t signature, const std::vector<Value>& keys,
                          std::string_view id);

struct DecodedCursor {
  std::vector<Value> keys;  // one per sort key (strings, numbers, bools, nulls)
  std::string id;
};
// kBadRequest "invalid cursor" (parameter "cursor") for anything malformed, oversized (> 4 KiB), not sealed with
// `key` (forged or altered), with the wrong signature or the wrong number of keys.
Result<DecodedCursor> decode_cursor(const CursorKey& key, std::string_view text, std::uint32_t signature,
                                    std::size_t key_count);

}  // namespace slipway::sql
