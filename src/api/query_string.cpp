#include "api/query_string.h"

#include "core/utf8.h"

namespace slipway::api {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Problem bad(std::string detail, std::string parameter = {}) {
  Problem p = Problem::make(ProblemCode::kBadRequest, std::move(detail));
  p.parameter = std::move(parameter);
  return p;
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int h = hex(in[i + 1]), l = hex(in[i + 2]);
      if (h < 0 || l < 0) return false;
      out.push_back(static_cast<char>(h * 16 + l));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

Result<QueryParams> QueryParams::parse(std::string_view query, std::span<const std::string_view> allowed) {
  QueryParams out;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      std::string key, value;
      if (!percent_decode(pair.substr(0, eq), key, true))
        return bad("The query string has a malformed percent-escape.");
      bool known = false;
      for (auto a : allowed) known |= (a == key);
      if (!known) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return bad("Unknown query parameter '" + (valid_utf8(key) && key.size() < 64 ? key : std::string("?")) +
                       "'; expected one of: " + list + ".",
                   valid_utf8(key) && key.size() < 64 ? key : "");
      }
      if (eq != std::string_view::npos && !percent_decode(pair.substr(eq + 1), value, true))
        return bad("Parameter '" + key + "' has a malformed percent-escape.", key);
      if (!valid_utf8(value) || value.find('\0') != std::string::npos)
        return bad("Parameter '" + key + "' is not valid UTF-8 text.", key);
      for (const auto& [k, v] : out.params_)
        if (k == key) return bad("Parameter '" + key + "' is given more than once.", key);
      out.params_.emplace_back(std::move(key), std::move(value));
    }
    if (amp == query.size()) break;
  }
  return out;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [k, v] : params_)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

}  // namespace slipway::api
