// SHA-256 (libsodium) for checksums, fingerprints and secret digests.
#pragma once

#include <string>
#include <string_view>

namespace slipway {

std::string sha256_raw(std::string_view data);  // 32 bytes
std::string sha256_hex(std::string_view data);  // 64 lower-case hex characters

}  // namespace slipway
