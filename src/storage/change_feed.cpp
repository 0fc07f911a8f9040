#include "storage/change_feed.h"

#include <charconv>

namespace slipway::storage {
namespace {

bool field(std::string_view& rest, std::string_view& out) {
  const std::size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return false;
  out = rest.substr(0, bar);
  rest.remove_prefix(bar + 1);
  return true;
}

template <class T>
bool number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string encode_change(const Change& c, std::string_view origin) {
  std::string out(origin);
  out += '|';
  out += std::to_string(static_cast<int>(c.kind));
  out += '|';
  out += std::to_string(static_cast<int>(c.op));
  out += '|';
  out += std::to_string(c.version);
  out += '|';
  out += std::to_string(c.at_ms);
  out += '|';
  out += c.collection;  // a collection name: letters, digits and '_' (the concept loader's rule)
  out += '|';
  out += c.id;          // the last field: may hold anything but is a UUID or a key id in practice
  return out;
}

bool decode_change(std::string_view text, Change& c, std::string& origin) {
  std::string_view o, kind, op, version, at, collection;
  if (!field(text, o) || !field(text, kind) || !field(text, op) || !field(text, version) || !field(text, at) ||
      !field(text, collection))
    return false;
  int k = 0, p = 0;
  if (!number(kind, k) || k < 0 || k > static_cast<int>(Change::Kind::kReset)) return false;
  if (!number(op, p) || p < 0 || p > static_cast<int>(Change::Op::kDelete)) return false;
  if (!number(version, c.version) || !number(at, c.at_ms)) return false;
  origin.assign(o);
  c.kind = static_cast<Change::Kind>(k);
  c.op = static_cast<Change::Op>(p);
  c.collection.assign(collection);
  c.id.assign(text);
  return true;
}

}  // namespace slipway::storage
