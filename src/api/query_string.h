// Query-string decoding for the records API: percent-decoding (and '+' as space), UTF-8 validation, a known set
// of parameter names, each at most once. Malformed input is a 400 naming the parameter.
#pragma once

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace slipway::api {

class QueryParams {
 public:
  // kBadRequest for bad escapes, invalid UTF-8, a NUL byte, an unknown or repeated parameter.
  static Result<QueryParams> parse(std::string_view query, std::span<const std::string_view> allowed);
  static Result<QueryParams> parse(std::string_view query, std::initializer_list<std::string_view> allowed) {
    return parse(query, std::span<const std::string_view>(allowed.begin(), allowed.size()));
  }
  std::optional<std::string_view> get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// Percent-decodes; false on a bad escape.
bool percent_decode(std::string_view in, std::string& out, bool plus_is_space);

}  // namespace slipway::api
