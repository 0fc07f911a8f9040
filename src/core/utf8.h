// UTF-8 checks shared by every input path (query strings, JSON output, the expression lexer, the concept loader).
// Strict: overlong forms, surrogates and code points past U+10FFFF are invalid.
#pragma once

#include <cstddef>
#include <string_view>

namespace slipway {

// Length of the valid sequence starting at s[i] (1 for ASCII), or 0 when the bytes there are not valid UTF-8.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);
// Byte offset of the first invalid sequence, or std::string_view::npos when all of `s` is valid.
std::size_t first_invalid_utf8(std::string_view s);
inline bool valid_utf8(std::string_view s) { return first_invalid_utf8(s) == std::string_view::npos; }
// Code points of valid UTF-8 text (counts the bytes that are not continuation bytes).
std::size_t utf8_code_points(std::string_view s);

}  // namespace slipway
