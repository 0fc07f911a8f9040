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

}  // namespace slipway
