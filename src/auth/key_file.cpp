#include "auth/key_file.h"

#include <sodium.h>

#include <string>

namespace slipway::auth {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(kBlanks);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kBlanks) - b + 1);
}

bool decode_key(std::string_view text, std::array<unsigned char, 32>& key) {
  for (const int variant : {sodium_base64_VARIANT_URLSAFE_NO_PADDING, sodium_base64_VARIANT_URLSAFE,
                            sodium_base64_VARIANT_ORIGINAL_NO_PADDING, sodium_base64_VARIANT_ORIGINAL}) {
    std::size_t len = 0;
    if (sodium_base642bin(key.data(), key.size(), text.data(), text.size(), nullptr, &len, nullptr, variant) == 0 &&
        len == key.size())
      return true;
  }
  sodium_memzero(key.data(), key.size());
  return false;
}

}  // namespace

KeyLine::~KeyLine() { sodium_memzero(key.data(), key.size()); }

Result<std::vector<KeyLine>> parse_key_file(std::string_view text, std::string_view what, std::string_view expected) {
  std::vector<KeyLine> keys;
  int line_no = 0;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    KeyLine k;
    k.line = line_no;
    if (!decode_key(line, k.key))
      return Problem::make(ProblemCode::kInternal, std::string(what) + " line " + std::to_string(line_no) + ": not " +
                                                       std::string(expected) + " (a 32-byte key in base64url or base64)");
    keys.push_back(k);
  }
  if (keys.empty())
    return Problem::make(ProblemCode::kInternal, std::string(what) + " holds no key (expected one base64url " +
                                                     "32-byte key per line)");
  return keys;
}

}  // namespace slipway::auth
