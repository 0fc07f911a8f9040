#include "http/request.h"

#include "core/ascii.h"

namespace slipway::http {

std::string_view method_name(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
    case Method::kOptions: return "OPTIONS";
    case Method::kConnect: return "CONNECT";
    case Method::kTrace: return "TRACE";
    case Method::kOther: return "OTHER";  // logs and metric labels never carry a client's made-up method
  }
  return "OTHER";
}


std::string_view Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (ascii_iequals(k, name)) return v;
  }
  return {};
}

std::size_t Request::header_count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : headers) n += ascii_iequals(k, name) ? 1 : 0;
  return n;
}

}  // namespace slipway::http
