#include "api/routes.h"

#include <stdexcept>

namespace slipway::api {
namespace {

constexpr std::size_t kMaxSegments = 16;

// Splits "/a/b/c" into its segments without allocating; false for a path that is not absolute or has more
// segments than any route could have.
bool split(std::string_view path, std::array<std::string_view, kMaxSegments>& out, std::size_t& n) {
  n = 0;
  if (path.empty() || path.front() != '/') return false;
  std::size_t pos = 1;
  for (;;) {
    if (n == kMaxSegments) return false;
    const std::size_t slash = path.find('/', pos);
    out[n++] = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (slash == std::string_view::npos) return true;
    pos = slash + 1;
  }
}

bool serves(const RouteMethod& row, http::Method m) {
  return row.method == m || (m == http::Method::kHead && row.method == http::Method::kGet);
}

}  // namespace

std::string_view RouteMatch::param(std::string_view name) const {
  for (std::size_t i = 0; i < param_count; ++i)
    if (params[i].first == name) return params[i].second;
  return {};
}

RouteTable::RouteTable(std::vector<RouteSpec> rows) : rows_(std::move(rows)) {
  static constexpr std::pair<http::Method, std::string_view> kOrder[] = {
      {http::Method::kGet, "GET, HEAD"}, {http::Method::kPost, "POST"},     {http::Method::kPut, "PUT"},
      {http::Method::kPatch, "PATCH"},   {http::Method::kDelete, "DELETE"},
  };
  for (const auto& row : rows_) {
    Compiled c;
    std::array<std::string_view, kMaxSegments> parts;
    std::size_t n = 0;
    if (!split(row.pattern, parts, n)) throw std::invalid_argument("route pattern: " + std::string(row.pattern));
    std::size_t params = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view s = parts[i];
      if (s.empty()) throw std::invalid_argument("route pattern with an empty segment: " + std::string(row.pattern));
      const bool param = s.front() == '{' && s.back() == '}' && s.size() > 2;
      if (param && ++params > RouteMatch{}.params.size())
        throw std::invalid_argument("route pattern with too many parameters: " + std::string(row.pattern));
      c.segments.push_back({param ? s.substr(1, s.size() - 2) : s, param});
    }
    for (const auto& [method, name] : kOrder) {
      for (const auto& m : row.methods) {
        if (m.method != method) continue;
        if (!m.handler) throw std::invalid_argument("route without a handler: " + std::string(row.pattern));
        c.allow += std::string(name) + ", ";
      }
    }
    c.allow += "OPTIONS";
    compiled_.push_back(std::move(c));
  }
}

RouteMatch RouteTable::match(http::Method method, std::string_view path) const {
  std::array<std::string_view, kMaxSegments> parts;
  std::size_t n = 0;
  if (!split(path, parts, n)) return {};
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    const Compiled& c = compiled_[r];
    if (c.segments.size() != n) continue;
    RouteMatch m;
    bool ok = true;
    for (std::size_t i = 0; i < n && ok; ++i) {
      const Segment& seg = c.segments[i];
      if (!seg.param) ok = parts[i] == seg.text;
      else if ((ok = !parts[i].empty())) m.params[m.param_count++] = {seg.text, parts[i]};
    }
    if (!ok) continue;
    m.route = &rows_[r];
    m.allow = c.allow;
    for (const auto& row : rows_[r].methods)
      if (serves(row, method)) m.method = &row;
    return m;
  }
  return {};
}

}  // namespace slipway::api
