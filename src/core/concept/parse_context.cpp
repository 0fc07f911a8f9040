#include "core/concept/parse_context.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace slipway::model {
namespace {
constexpr std::size_t kMaxEcho = 40;  // longest scalar echoed back in a message

struct DurationUnit {
  char suffix;
  std::int64_t seconds;
};
constexpr std::array<DurationUnit, 4> kDurationUnits = {{{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};
}  // namespace

ParseContext::ParseContext(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts_.push_back(i + 1);
  }
}

void ParseContext::error(SourceLoc loc, std::string message) {
  Diagnostic d;
  d.line = loc.line;
  d.column = loc.column;
  d.message = std::move(message);
  diagnostics_.push_back(std::move(d));
}

SourceLoc ParseContext::loc_of(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0 || m.column < 0) return SourceLoc{1, 1};
  return SourceLoc{m.line + 1, m.column + 1};
}

SourceLoc ParseContext::value_loc(const Entry& e) {
  const SourceLoc key = loc_of(e.key_node);
  if (e.value.IsNull()) {
    const SourceLoc v = loc_of(e.value);
    if (v.line != key.line) return key;
    return v;
  }
  return loc_of(e.value);
}

std::size_t ParseContext::offset_of(SourceLoc loc) const {
  if (loc.line < 1 || static_cast<std::size_t>(loc.line) > line_starts_.size() || loc.column < 1) {
    return std::string_view::npos;
  }
  const std::size_t off =
      line_starts_[static_cast<std::size_t>(loc.line - 1)] + static_cast<std::size_t>(loc.column - 1);
  return off <= text_.size() ? off : std::string_view::npos;
}

std::string ParseContext::describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (s.size() <= kMaxEcho) return "'" + s + "'";
      std::size_t cut = kMaxEcho;
      while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // stay on a UTF-8 boundary
      return "'" + s.substr(0, cut) + "...'";
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "null";
}

std::optional<std::vector<Entry>> ParseContext::map_entries(const YAML::Node& node, SourceLoc loc,
                                                            std::string_view what) {
  if (!node.IsMap()) {
    error(loc, "expected a map for '" + std::string(what) + "', got " + describe(node));
    return std::nullopt;
  }
  std::vector<Entry> out;
  std::set<std::string, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(loc_of(key), "expected a name as key in '" + std::string(what) + "', got " + describe(key));
      continue;
    }
    if (!seen.insert(key.Scalar()).second) continue;
    out.push_back(Entry{key.Scalar(), key, it->second});
  }
  return out;
}

std::vector<Entry> ParseContext::known_entries(const std::vector<Entry>& entries,
                                               const std::vector<std::string_view>& allowed, std::string_view where) {
  std::vector<Entry> known;
  for (const Entry& e : entries) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || a == e.key;
    if (ok) {
      known.push_back(e);
    } else {
      error(loc_of(e.key_node), "unknown key '" + e.key + "' " + std::string(where) + did_you_mean(e.key, allowed));
    }
  }
  return known;
}

bool ParseContext::misspelled(const std::vector<Entry>& entries, const std::vector<std::string_view>& allowed,
                              std::string_view key) {
  for (const Entry& e : entries) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    if (closest_name(e.key, allowed) == key) return true;
  }
  return false;
}

void ParseContext::expected(const Entry& e, std::string_view kind) {
  error(value_loc(e), "expected " + std::string(kind) + " for '" + e.key + "', got " + describe(e.value));
}

std::optional<std::string> ParseContext::read_string(const Entry& e) {
  if (!e.value.IsScalar()) {
    expected(e, "a string");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<bool> ParseContext::read_bool(const Entry& e) {
  std::optional<bool> b = e.value.IsScalar() ? parse_yaml_bool(e.value.Scalar()) : std::nullopt;
  if (!b) expected(e, "a boolean (true or false)");
  return b;
}

std::optional<double> ParseContext::read_number(const Entry& e) {
  std::optional<double> d = e.value.IsScalar() ? parse_finite_double(e.value.Scalar()) : std::nullopt;
  if (!d) expected(e, "a number");
  return d;
}

std::optional<std::int64_t> ParseContext::read_integer(const Entry& e) {
  std::optional<std::int64_t> i = e.value.IsScalar() ? parse_int64(e.value.Scalar()) : std::nullopt;
  if (!i) expected(e, "an integer");
  return i;
}

std::optional<std::int64_t> ParseContext::read_duration(const Entry& e) {
  std::optional<std::int64_t> d = e.value.IsScalar() ? parse_duration(e.value.Scalar()) : std::nullopt;
  if (!d) expected(e, "a duration (a whole number and s, m, h or d: 90s, 15m, 12h, 30d; or seconds: 900)");
  return d;
}

std::optional<std::int64_t> parse_duration(std::string_view s) {
  std::int64_t unit = 1;
  if (!s.empty()) {
    for (const DurationUnit& u : kDurationUnits) {
      if (s.back() == u.suffix) {
        unit = u.seconds;
        s.remove_suffix(1);
        break;
      }
    }
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const std::optional<std::int64_t> n = parse_int64(s);
  if (!n || *n <= 0 || *n > std::numeric_limits<std::int64_t>::max() / unit) return std::nullopt;
  return *n * unit;
}

std::string format_duration(std::int64_t seconds) {
  for (const DurationUnit& u : kDurationUnits) {
    if (seconds != 0 && seconds % u.seconds == 0) return std::to_string(seconds / u.seconds) + u.suffix;
  }
  return std::to_string(seconds) + "s";
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  std::int64_t v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (s.empty() || ec != std::errc() || ptr != last) return std::nullopt;
  return v;
}

std::optional<double> parse_finite_double(std::string_view s) {
  double v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (s.empty() || ec != std::errc() || ptr != last || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<bool> parse_yaml_bool(std::string_view s) {
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

std::string format_number(double d) {
  std::array<char, 32> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  return ec == std::errc() ? std::string(buf.data(), ptr) : std::string("?");
}

}  // namespace slipway::model
