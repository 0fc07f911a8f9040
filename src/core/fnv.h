// FNV-1a, 32 bit: a fast, stable, non-cryptographic hash for short identifiers (cursor signatures, ETag
// suffixes). Never for secrets or integrity: use sha256.h for those.
#pragma once

#include <cstdint>
#include <string_view>

namespace slipway {

constexpr std::uint32_t kFnv1aBasis = 2166136261u;

// Continues a hash with `s`; start from kFnv1aBasis.
constexpr std::uint32_t fnv1a(std::string_view s, std::uint32_t h = kFnv1aBasis) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace slipway
