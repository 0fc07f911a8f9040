// The text format of slipway's secret key files (access-token keys, auth/key_ring.h; data-encryption keys,
// auth/data_keys.h): one 32-byte key per line in base64url or standard base64, with or without padding; blank
// lines and lines starting with '#' are ignored; the first key is the active one.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace slipway::auth {

struct KeyLine {
  int line = 0;                        // 1-based, for messages
  std::array<unsigned char, 32> key{};
  KeyLine() = default;
  KeyLine(const KeyLine&) = default;
  KeyLine& operator=(const KeyLine&) = default;
  ~KeyLine();  // wipes the key
};

// The keys of `text` in file order. A Problem (kInternal; its detail is the start-up message) names the first bad
// line as "<what> line N: ..." and never holds key material; a file without any key is refused too.
[[nodiscard]] Result<std::vector<KeyLine>> parse_key_file(std::string_view text, std::string_view what,
                                                          std::string_view expected);

}  // namespace slipway::auth
