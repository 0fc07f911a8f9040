// Internal to the loader: the state of one load (text, diagnostics) and the typed readers over yaml-cpp nodes
// that every part of the loader uses, so that positions and "expected X, got Y" messages are uniform.
// Thread safety: one ParseContext per load.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/concept/diagnostics.h"
#include "core/source_span.h"

namespace slipway::model {

// One key/value pair of a YAML map, in file order.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

class ParseContext {
 public:
  explicit ParseContext(std::string_view text);

  void error(SourceLoc loc, std::string message);
  std::vector<Diagnostic>& diagnostics() { return diagnostics_; }
  std::string_view text() const { return text_; }

  // 1-based position of a node (line 1, column 1 when yaml-cpp has no mark, e.g. an empty document).
  static SourceLoc loc_of(const YAML::Node& node);
  // Where to point at an entry's value: an empty value (`key:`) has the next token's mark, so use the key's.
  static SourceLoc value_loc(const Entry& e);
  // Byte offset into the text of a 1-based position, or npos.
  std::size_t offset_of(SourceLoc loc) const;

  // "a map", "a list", "null" or the scalar quoted ('abc', shortened).
  static std::string describe(const YAML::Node& node);

  // Entries of a map in file order; later duplicates are skipped (the guard pass reported them) and non-string
  // keys are reported. Returns nullopt (after a diagnostic "expected a map for '<what>', got …") if not a map.
  std::optional<std::vector<Entry>> map_entries(const YAML::Node& node, SourceLoc loc, std::string_view what);

  // Reports every key not in `allowed`: "unknown key 'k' <where> (did you mean '…'?)". Returns the rest.
  std::vector<Entry> known_entries(const std::vector<Entry>& entries, const std::vector<std::string_view>& allowed,
                                   std::string_view where);

  // True when an unknown key among `entries` looks like a misspelling of `key` (it was reported with "did you
  // mean '<key>'?"), so "missing required key '<key>'" would only repeat the same mistake.
  static bool misspelled(const std::vector<Entry>& entries, const std::vector<std::string_view>& allowed,
                         std::string_view key);

  // Typed readers: on a mismatch they report "expected <kind> for '<key>', got …" and return nullopt.
  std::optional<std::string> read_string(const Entry& e);
  std::optional<bool> read_bool(const Entry& e);
  std::optional<double> read_number(const Entry& e);
  std::optional<std::int64_t> read_integer(const Entry& e);
  std::optional<std::int64_t> read_duration(const Entry& e);  // seconds; see parse_duration
  void expected(const Entry& e, std::string_view kind);

 private:
  std::string_view text_;
  std::vector<std::size_t> line_starts_;
  std::vector<Diagnostic> diagnostics_;
};

// Scalar conversions shared by option readers and default values (no YAML involved).
std::optional<std::int64_t> parse_int64(std::string_view s);
std::optional<double> parse_finite_double(std::string_view s);
std::optional<bool> parse_yaml_bool(std::string_view s);
// A duration in seconds: digits and a unit s, m, h or d ("90s", "15m", "12h", "30d"), or digits alone (seconds).
// Positive; no sign, space, fraction or other unit ("M" could be months); nullopt too when it overflows int64.
std::optional<std::int64_t> parse_duration(std::string_view s);
// The largest unit that divides `seconds` exactly: 900 → "15m", 86400 → "1d", 90 → "90s". For messages.
std::string format_duration(std::int64_t seconds);
// Shortest round-trip text of a number ("200", "0.5"), for messages.
std::string format_number(double d);

}  // namespace slipway::model
