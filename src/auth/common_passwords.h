// The list of the 10,000 most common passwords (src/auth/data/common-passwords.txt, from zxcvbn 4.4.2; provenance in
// src/auth/data/common-passwords.README.md), embedded in the binary at build time by cmake/embed_file.cmake.
// Thread safety: the lookup table is built once, on first use, by a function-local static (thread-safe
// initialisation); after that every call only reads it.
#pragma once

#include <cstddef>
#include <string_view>

namespace slipway::auth {

// True when `password` is on the list after lower-casing its ASCII letters (the list itself is lower case:
// zxcvbn counted passwords case-folded). Non-ASCII bytes are compared as they are, so never match.
bool is_common_password(std::string_view password);

// Entries on the list (10,000), for tests and diagnostics.
std::size_t common_password_count();

}  // namespace slipway::auth
