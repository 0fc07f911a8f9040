#include "core/text_formats.h"

#include "core/ascii.h"

namespace slipway {

bool valid_email(std::string_view s) {
  if (s.size() > 254) return false;
  const auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = s.substr(at + 1);
  if (domain.size() < 3 || domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.')
    return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' || c == '\\' ||
        c == '"')
      return false;
  return true;
}

bool valid_url(std::string_view s) {
  if (s.size() > 2048) return false;
  std::string_view rest;
  if (ascii_istarts_with(s, "https://")) rest = s.substr(8);
  else if (ascii_istarts_with(s, "http://")) rest = s.substr(7);
  else return false;
  if (rest.empty() || rest.front() == '/' || rest.front() == '?' || rest.front() == '#') return false;
  for (unsigned char c : s)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\') return false;
  return true;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace slipway
