// Keyset cursor codec. A cursor is opaque to clients: base64url (no padding) of a JSON array
//   [<sort signature>, <value of sort key 1>, ..., <value of sort key n>, <id>]
// taken from the last row of a page. The signature (a hash of the sort spec) makes a cursor from one sort
// order fail cleanly when replayed with another. See docs/formats.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/value.h"

namespace slipway::sql {

// Hash of the canonical sort spec ("-created,title"), stable across versions (FNV-1a 32-bit).
std::uint32_t sort_signature(std::string_view canonical_sort);

std::string encode_cursor(std::uint32_t signature, const std::vector<Value>& keys, std::string_view id);

struct DecodedCursor {
  std::vector<Value> keys;  // one per sort key (strings, numbers, bools, nulls)
  std::string id;
};
// kBadRequest "invalid cursor" (parameter "cursor") for anything malformed, oversized (> 4 KiB), with the wrong
// signature or the wrong number of keys.
Result<DecodedCursor> decode_cursor(std::string_view text, std::uint32_t signature, std::size_t key_count);

}  // namespace slipway::sql
